from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from inspections.api import AssessmentViewSet, IncidentViewSet
from reports.api import AppraisalView, AttainmentViewSet, ScreenView, TaskView, UnitStatusView
from reports.result_api import AppealViewSet, ResultViewSet
from standards.api import CampaignViewSet, StandardViewSet
from supervision.api import InspectionViewSet, RectificationViewSet, SpecialActionViewSet
from units.api import RegionChangeView, RegionViewSet, TokenIssueView, TokenRevokeView, TokenView, UnitViewSet

router = DefaultRouter()
# first: the statistics clients ask most, and URLs are resolved in order
router.register("attainment", AttainmentViewSet, basename="attainment")
router.register("regions", RegionViewSet, basename="region")
router.register("units", UnitViewSet, basename="unit")
router.register("standards", StandardViewSet, basename="standard")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("rectifications", RectificationViewSet, basename="rectification")
router.register("special-actions", SpecialActionViewSet, basename="special-action")
router.register("results", ResultViewSet, basename="result")
router.register("appeals", AppealViewSet, basename="appeal")

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/tokens/", TokenIssueView.as_view(), name="tokens"),
    path("auth/tokens/<str:username>/", TokenRevokeView.as_view(), name="token-revoke"),
    path("tasks/<str:task_id>/", TaskView.as_view(), name="task"),
    path("appraisal/", AppraisalView.as_view(), name="appraisal"),
    path("screen/", ScreenView.as_view(), name="screen"),
    path("units/<int:pk>/status/", UnitStatusView.as_view(), name="unit-status"),
    # before the router's regions/{code}/
    path("regions/changes/", RegionChangeView.as_view(), name="region-changes"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file, so the page needs no inline script (CSP)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include(router.urls)),
]
