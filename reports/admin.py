"""The official result in the admin: read only (it changes through reports.results, in
the portal), and only what the administrator's jurisdiction concerns."""

from django.contrib import admin

from units import access
from units.admin import ReadOnlyAdmin

from . import results
from .models import Appeal, AppraisalScheme, OfficialResult, Revocation


@admin.register(OfficialResult)
class OfficialResultAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "year", "status", "closed_at", "document_number", "digest"]
    list_filter = ["status", "year"]
    exclude = ["pdf"]

    def get_queryset(self, request):
        return results.results_for(request.user)


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["result", "unit", "status", "filed_at", "decided_at"]
    list_filter = ["status"]
    exclude = ["evidence"]

    def get_queryset(self, request):
        return access.scope(request.user, Appeal.objects.filter(result__in=results.results_for(request.user)))


@admin.register(Revocation)
class RevocationAdmin(ReadOnlyAdmin):
    list_display = ["result", "unit", "on", "source", "lifted_on"]

    def get_queryset(self, request):
        return access.scope(request.user, Revocation.objects.filter(result__in=results.results_for(request.user)))


@admin.register(AppraisalScheme)
class AppraisalSchemeAdmin(ReadOnlyAdmin):
    """The appraisal's weights: read here, set on the appraisal page (reports.appraisal
    .scheme_set checks the sums and audits the change)."""

    list_display = ["campaign", "w_attainment", "w_rise", "w_tasks", "w_deviation", "w_actions", "updated_by"]

    def get_queryset(self, request):
        from standards import selectors as campaign_selectors

        return super().get_queryset(request).filter(campaign__in=campaign_selectors.campaigns_for(request.user))
