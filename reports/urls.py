from django.urls import path

from . import appraisal_views, result_views, views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("screen/", views.screen, name="screen"),
    path("township/", views.township_units, name="township"),
    path("sector/", views.sector, name="sector"),
    path("region-indicator/", views.region_indicator, name="region_indicator"),
    path("appraisal/", appraisal_views.appraisal_page, name="appraisal"),
    path("appraisal/circular.<str:fmt>", appraisal_views.circular, name="circular"),
    path("appraisal/scheme/", appraisal_views.scheme, name="appraisal_scheme"),
    path("unit/<int:unit_id>/", views.unit_status, name="unit"),
    path("published/", views.published_list, name="published"),
    path("export/attainment.<str:fmt>", views.export_attainment, name="export_attainment"),
    path("export/township.<str:fmt>", views.export_township, name="export_township"),
    path("recompute/", views.recompute, name="recompute"),
    path("tasks/<str:task_id>/", views.task_progress, name="task"),
    path("tasks/<str:task_id>/cancel/", views.task_cancel, name="task_cancel"),
    # the official result (锁定 · 公示 · 申诉 · 发文命名 · 摘牌)
    path("results/", result_views.result_list, name="results"),
    path("results/<int:pk>/", result_views.result_detail, name="result"),
    path("results/<int:pk>/appeal/", result_views.appeal_file, name="appeal_file"),
    path("results/<int:pk>/publish/", result_views.publish, name="publish"),
    path("results/<int:pk>/verify/", result_views.verify, name="verify"),
    path("results/<int:pk>/official.pdf", result_views.official_pdf, name="official_pdf"),
    path("results/<int:pk>/named.xlsx", result_views.named_xlsx, name="named_xlsx"),
    path("appeals/<int:pk>/decide/", result_views.appeal_decide, name="appeal_decide"),
    path("appeals/<int:pk>/evidence/", result_views.appeal_evidence, name="appeal_evidence"),
]
