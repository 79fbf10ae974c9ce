from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("rectifications/", views.ledger, name="ledger"),
    path("rectifications/export.<str:fmt>", views.ledger_export, name="ledger_export"),
    path("rectifications/new/", views.task_create, name="task_create"),
    path("rectifications/<int:pk>/", views.task_detail, name="task"),
    path("rectifications/<int:pk>/<str:action>/", views.task_action, name="task_action"),
    path("rectifications/evidence/<int:pk>/", views.task_evidence, name="task_evidence"),
    path("inspections/", views.inspection_list, name="inspections"),
    path("inspections/new/<str:how>/", views.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection"),
    path("inspections/check/<int:pk>/", views.spot_check, name="check"),
    path("inspections/deviation/", views.deviation, name="deviation"),
    path("actions/", views.actions, name="actions"),
    path("actions/progress/", views.action_progress_create, name="action_progress"),
    path("actions/evidence/<int:pk>/", views.progress_evidence, name="progress_evidence"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification"),
]
