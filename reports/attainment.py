"""The attainment rule (达标), in one place. See docs/attainment.md.

A unit attains for a campaign and year when all hold:
  in_scope     it is active, inside the campaign's scope region, and its category is covered;
  assessed     it has an assessment for that campaign and year;
  approved     that assessment is approved (not draft/submitted/returned, not overturned);
  score        its approved final score (converted to 100 over the applicable items,
               合理缺项) reaches the campaign's pass mark;
  veto         no veto item it is scored on fell short of full score;
  no_incident  no incident of the campaign's zero-kinds, not dismissed, happened in
               that calendar year.

Everything here builds querysets; the roll-up, the dashboards' "why not", and the API
all use these conditions and never re-derive them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from inspections.models import Incident, IncidentStatus, Status
from standards.models import Campaign
from units.models import Unit

CONDITIONS = ("assessed", "approved", "score", "veto", "no_incident")


def scope_units(campaign: Campaign, *, prefix: str | None = None) -> QuerySet[Unit]:
    """The denominator: every active unit of a covered category inside the scope
    (optionally narrowed to a region prefix), assessed or not."""
    qs = Unit.objects.filter(
        active=True,
        township__code__startswith=campaign.scope.prefix,
        category__in=campaign.categories,
    )
    if prefix:
        qs = qs.filter(township__code__startswith=prefix)
    return qs


def breaking_incidents(campaign: Campaign, year: int) -> QuerySet[Incident]:
    return Incident.objects.filter(
        kind__in=campaign.zero_kinds,
        occurred_on__gte=dt.date(year, 1, 1),
        occurred_on__lte=dt.date(year, 12, 31),
    ).exclude(status=IncidentStatus.DISMISSED)


def with_assessment(qs: QuerySet[Unit], campaign: Campaign, year: int) -> QuerySet[Unit]:
    """Join each unit to its (at most one) assessment for the campaign and year."""
    return qs.annotate(
        a=FilteredRelation("assessments", condition=Q(assessments__campaign=campaign, assessments__year=year))
    )


def condition_q(campaign: Campaign, year: int) -> dict[str, Q]:
    """Each condition as a Q over a queryset prepared by with_assessment()."""
    incident = breaking_incidents(campaign, year).filter(unit_id=OuterRef("pk"))
    return {
        "assessed": Q(a__id__isnull=False),
        "approved": Q(a__status=Status.APPROVED),
        "score": Q(a__final_score__gte=campaign.pass_mark),
        "veto": Q(a__veto_failed=False),
        "no_incident": ~Q(Exists(incident)),
    }


def attained_q(campaign: Campaign, year: int) -> Q:
    q = Q()
    for cond in condition_q(campaign, year).values():
        q &= cond
    return q


def annotate_conditions(qs: QuerySet[Unit], campaign: Campaign, year: int) -> QuerySet[Unit]:
    """Annotate ok_<condition> booleans and `attained` on each unit (for pages and the API)."""
    conds = condition_q(campaign, year)
    ann = {f"ok_{name}": ExpressionWrapper(q, output_field=BooleanField()) for name, q in conds.items()}
    ann["attained"] = ExpressionWrapper(attained_q(campaign, year), output_field=BooleanField())
    return with_assessment(qs, campaign, year).annotate(
        **ann,
        a_status=F("a__status"),
        a_final=F("a__final_score"),
        a_id=F("a__id"),
    )


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


def reasons_for(unit: Unit, campaign: Campaign, year: int) -> list[Reason]:
    """Why a unit has not attained — empty when it has. One query for the conditions,
    and detail lookups only for a failed condition."""
    row = annotate_conditions(Unit.objects.filter(pk=unit.pk), campaign, year).values(
        *[f"ok_{c}" for c in CONDITIONS], "a_status", "a_final", "a_id", "active", "category", "township_id"
    ).first()
    out: list[Reason] = []
    if row is None:
        return out
    if not row["active"] or not row["township_id"].startswith(campaign.scope.prefix) \
            or row["category"] not in campaign.categories:
        return [Reason("in_scope", _("不在本活动创建范围内（已归档、不在范围区划内或类别不参与）"))]
    if not row["ok_assessed"]:
        out.append(Reason("assessed", _("未开展自评")))
    elif not row["ok_approved"]:
        if row["a_status"] == Status.OVERTURNED:
            from inspections.models import Assessment

            reason = Assessment.objects.filter(pk=row["a_id"]).values_list("overturn_reason", flat=True).first()
            out.append(Reason("approved", _("被抽查否定：%(r)s") % {"r": reason or "—"}))
        else:
            out.append(Reason("approved", _("自评尚未审核通过（当前状态：%(s)s）")
                              % {"s": Status(row["a_status"]).label}))
    if row["ok_assessed"] and not row["ok_score"]:
        short = campaign.pass_mark - row["a_final"]
        out.append(Reason("score", _("得分 %(f)s，距达标分数线 %(p)s 还差 %(d)s 分")
                          % {"f": f"{row['a_final']:.2f}", "p": f"{campaign.pass_mark:g}", "d": f"{short:.2f}"}))
    if row["ok_assessed"] and not row["ok_veto"]:
        from inspections.models import ItemScore
        from inspections.scoring import applicable_items

        items = {i.id: i for i in applicable_items(campaign.standard, row["category"]).filter(veto=True)}
        failed = [items[s.item_id].code + " " + items[s.item_id].title
                  for s in ItemScore.objects.filter(assessment_id=row["a_id"], item_id__in=items)
                  if (s.effective_score or 0) < items[s.item_id].max_score]
        out.append(Reason("veto", _("一票否决项未达标：%(items)s") % {"items": "；".join(failed) or "—"}))
    if not row["ok_no_incident"]:
        for inc in breaking_incidents(campaign, year).filter(unit_id=unit.pk).order_by("occurred_on")[:5]:
            out.append(Reason("no_incident", _("%(date)s 发生%(kind)s") % {
                "date": inc.occurred_on.isoformat(), "kind": inc.get_kind_display()}))
    return out


def campaigns_covering(unit: Unit, year: int | None = None) -> Iterable[Campaign]:
    """Campaigns whose scope contains the unit (and, if given, whose years include `year`)."""
    for c in Campaign.objects.select_related("scope").filter(active=True):
        if unit.township_id.startswith(c.scope.prefix) and (year is None or c.start_year <= year <= c.end_year):
            yield c
