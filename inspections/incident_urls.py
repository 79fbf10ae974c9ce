from django.urls import path

from . import incident_views

app_name = "incidents"
urlpatterns = [
    path("", incident_views.incident_list, name="list"),
    path("new/", incident_views.incident_create, name="create"),
    path("<int:pk>/judge/", incident_views.incident_judge, name="judge"),
    path("<int:pk>/refer-up/", incident_views.incident_refer_up, name="refer_up"),
    path("<int:pk>/resolve/", incident_views.incident_resolve, name="resolve"),
]
