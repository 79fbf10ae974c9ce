from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("start/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.entry, name="entry"),
    path("<int:pk>/review/", views.review, name="review"),
    path("queue/", views.queue, name="queue"),
    path("queue/approve/", views.bulk_approve, name="bulk_approve"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("conditions/", views.conditions, name="conditions"),
    path("conditions/evidence/<int:pk>/", views.condition_evidence, name="condition_evidence"),
]
