from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("township/", views.township_units, name="township"),
    path("unit/<int:unit_id>/", views.unit_status, name="unit"),
    path("published/", views.published_list, name="published"),
    path("export/attainment.<str:fmt>", views.export_attainment, name="export_attainment"),
    path("export/township.<str:fmt>", views.export_township, name="export_township"),
    path("recompute/", views.recompute, name="recompute"),
    path("tasks/<str:task_id>/", views.task_progress, name="task"),
]
