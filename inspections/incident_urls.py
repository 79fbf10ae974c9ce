from django.urls import path

from . import incident_views

app_name = "incidents"
urlpatterns = [
    path("", incident_views.incident_list, name="list"),
    path("new/", incident_views.incident_create, name="create"),
    path("<int:pk>/judge/", incident_views.incident_judge, name="judge"),
]
