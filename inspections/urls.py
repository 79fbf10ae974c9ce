from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("queue/", views.queue, name="queue"),
]
