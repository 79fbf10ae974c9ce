"""What standards answers to the events of the layer below (units.events)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError

from .models import Campaign


def refuse_ending_a_scope(sender, *, kind: str, sources: list[str], prefixes: list[str], **kwargs) -> None:
    """A change of the tree may not end the scope region of an active campaign (nor a
    region above it): the campaign's denominator for every year is the scope's subtree,
    so it would count nothing from then on. Refused with the campaign named; end or
    re-scope the campaign first. A rename ends nothing."""
    if kind == "rename":
        return
    for campaign in Campaign.objects.filter(active=True).select_related("scope"):
        if any(campaign.scope.code.startswith(p) for p in prefixes):
            raise ServiceError(
                {
                    "sources": [
                        _("“%(r)s”是创建活动“%(c)s”的范围：请先结束或调整该活动，再调整此区划。")
                        % {"r": campaign.scope.name, "c": campaign.name}
                    ]
                }
            )
