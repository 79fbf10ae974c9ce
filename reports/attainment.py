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

An attained unit has a grade (市、区不同达标等级分值): city grade (市级) when its final
score reaches the campaign's city-grade mark, else district grade (区级) — `grade_of` for
one score, `grade_expr` in a query; a test checks that the two agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    TextChoices,
    Value,
    When,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspections import scoring, zeros
from inspections.models import Assessment, ConditionStatus, Incident, ItemScore, Status, UnitCondition
from standards import kinds
from standards.models import Campaign, ConditionKind
from units import history
from units.models import Unit

CONDITIONS = ("assessed", "approved", "score", "veto", "no_incident", "conditions")


# how a failed condition reads in a list (the "why not" gives the details)
CONDITION_LABELS = {
    "in_scope": gettext_lazy("不在创建范围内"),
    "assessed": gettext_lazy("未开展自评"),
    "approved": gettext_lazy("自评未审核通过"),
    "score": gettext_lazy("得分未达分数线"),
    "veto": gettext_lazy("一票否决项未达标"),
    "no_incident": gettext_lazy("发生“零”事项"),
    "conditions": gettext_lazy("“零”条件未确认"),
}


class Grade(TextChoices):
    CITY = "city", gettext_lazy("市级")
    DISTRICT = "district", gettext_lazy("区级")


def grade_of(final_score, campaign: Campaign) -> str:
    """The grade of an attained unit with this final score."""
    mark = campaign.city_grade_pass_mark
    return Grade.CITY if mark is not None and final_score is not None and final_score >= mark else Grade.DISTRICT


def grade_expr(campaign: Campaign, score: str = "a__final_score"):
    """grade_of() in a query over units prepared by with_assessment() (the grade an
    attained unit would have; the caller keeps it for attained ones)."""
    mark = campaign.city_grade_pass_mark
    if mark is None:
        return Value(Grade.DISTRICT.value)
    return Case(When(**{f"{score}__gte": mark}, then=Value(Grade.CITY.value)), default=Value(Grade.DISTRICT.value))


def figures(total: int, attained: int, target) -> tuple[Decimal, bool | None, int]:
    """Rate, met and gap of a region's figures — the roll-up statement's arithmetic
    (reports.rollup), exactly, for the few rows an amendment of the official result writes:
    rate rounded half-up to 6 places, gap = max(0, ⌈target × total⌉ − attained), met ⇔ gap
    = 0. A test checks it against the statement."""
    rate = Decimal(0) if not total else Decimal((2_000_000 * attained + total) // (2 * total)) / Decimal(1_000_000)
    if target is None:
        return rate.quantize(Decimal("0.000001")), None, 0
    short = (int((Decimal(target) * 10000).to_integral_value(ROUND_HALF_UP)) * total + 9999) // 10000 - attained
    return rate.quantize(Decimal("0.000001")), short <= 0, max(short, 0)


def grades_for_units(units: QuerySet[Unit], campaign: Campaign, year: int) -> dict[int, str]:
    """The grade of each of these units that attains in the campaign-year (one query)."""
    return dict(
        annotate_conditions(scope_units(campaign, year), campaign, year)
        .filter(attained=True, pk__in=units.values("pk"))
        .annotate(grade=grade_expr(campaign))
        .values_list("id", "grade")
    )


def scope_units(campaign: Campaign, year: int, *, prefix: str | None = None) -> QuerySet[Unit]:
    """The denominator: every unit of a covered category inside the scope, active — as it
    stood at the end of the year (units.history: a later move, archive or new kind does
    not change a past year) — optionally narrowed to a region prefix, assessed or not."""
    return as_of_year(Unit.objects.all(), year).filter(campaign.unit_q(prefix=prefix, as_of=True))


def scope_units_parts(campaign: Campaign, year: int, *, prefix: str | None = None) -> list[QuerySet[Unit]]:
    """scope_units() as disjoint parts with plain-column filters, for the roll-up's one
    grouped query over every unit (units.history.units_as_of_parts)."""
    day = history.year_end(year)
    return [part.filter(campaign.unit_q(prefix=prefix, as_of=True)) for part in history.units_as_of_parts(day)]


def as_of_year(units: QuerySet[Unit], year: int) -> QuerySet[Unit]:
    """Units with their township, kind, category and active state at the year's end."""
    return history.units_as_of(history.year_end(year), units)


def breaking_incidents(campaign: Campaign, year: int) -> QuerySet[Incident]:
    """The incidents that break the campaign's zeros in the year (inspections.zeros)."""
    return Incident.objects.filter(
        zeros.breaking_q(campaign.zero_kinds, year_end=dt.date(year, 12, 31)),
        occurred_on__gte=dt.date(year, 1, 1),
        occurred_on__lte=dt.date(year, 12, 31),
    )


def with_assessment(
    qs: QuerySet[Unit], campaign: Campaign, year: int, *, unit_ids: tuple[int, int] | None = None
) -> QuerySet[Unit]:
    """Join each unit to its (at most one) assessment for the campaign and year; with
    `unit_ids` (lo, hi) the join reads only the assessments of units lo ≤ id < hi (the
    caller restricts the units alike)."""
    condition = Q(assessments__campaign=campaign, assessments__year=year)
    if unit_ids is not None:
        condition &= Q(assessments__unit_id__gte=unit_ids[0], assessments__unit_id__lt=unit_ids[1])
    return qs.annotate(a=FilteredRelation("assessments", condition=condition))


def condition_q(campaign: Campaign, year: int) -> dict[str, Q]:
    """Each condition as a Q over a queryset prepared by with_assessment()."""
    incident = breaking_incidents(campaign, year).filter(unit_id=OuterRef("pk"))
    return {
        "assessed": Q(a__id__isnull=False),
        "approved": Q(a__status=Status.APPROVED),
        "score": Q(a__final_score__gte=campaign.pass_mark),
        "veto": Q(a__veto_failed=False),
        "no_incident": ~Q(Exists(incident)),
        "conditions": conditions_q(campaign, year),
    }


def conditions_q(campaign: Campaign, year: int) -> Q:
    """Each of the campaign's conditions (零盲区) confirmed and standing for the unit-year
    (always true without conditions: an empty Q would read as false in an annotation)."""
    q = Q(pk__isnull=False)
    for kind in campaign.conditions or []:
        standing = UnitCondition.objects.filter(
            unit_id=OuterRef("pk"), kind=kind, year=year, status=ConditionStatus.CONFIRMED
        )
        q &= Q(Exists(standing))
    return q


def attained_q(campaign: Campaign, year: int) -> Q:
    q = Q()
    for cond in condition_q(campaign, year).values():
        q &= cond
    return q


def passed_q(campaign: Campaign, year: int) -> Q:
    """Every condition but no_incident: attained = passed and not among the units of
    breaking_incidents(). For statements over every unit (the full roll-up), which join
    the few broken units once rather than run a subquery per unit."""
    q = Q()
    for name, cond in condition_q(campaign, year).items():
        if name != "no_incident":
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


def _num(d) -> str:
    """85.0 -> '85', 85.5 -> '85.5'."""
    return f"{d.normalize():f}"


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


def reasons_for_units(units: QuerySet[Unit], campaign: Campaign, year: int) -> dict[int, list[Reason]]:
    """Why each unit has not attained (empty list when it has), for a whole page of units:
    one query for the conditions, and one per failed condition kind for its details."""
    in_scope = ExpressionWrapper(campaign.unit_q(as_of=True), output_field=BooleanField())
    rows = list(
        annotate_conditions(as_of_year(units, year), campaign, year)
        .annotate(in_scope=in_scope, category_then=F(history.AS_OF["category"]))
        .values("id", "in_scope", *[f"ok_{c}" for c in CONDITIONS], "a_status", "a_final", "a_id", "category_then")
    )
    out: dict[int, list[Reason]] = {r["id"]: [] for r in rows}
    veto_check, incident_check, overturned, condition_check = [], [], {}, []
    for r in rows:
        reasons = out[r["id"]]
        if not r["in_scope"]:
            reasons.append(Reason("in_scope", _("不在本活动创建范围内（已归档、不在范围区划内或类别不参与）")))
            continue
        if not r["ok_assessed"]:
            reasons.append(Reason("assessed", _("未开展自评")))
        elif not r["ok_approved"]:
            if r["a_status"] == Status.OVERTURNED:
                overturned[r["a_id"]] = r["id"]
            else:
                reasons.append(
                    Reason("approved", _("自评尚未审核通过（当前状态：%(s)s）") % {"s": Status(r["a_status"]).label})
                )
        if r["ok_assessed"] and not r["ok_score"]:
            short = campaign.pass_mark - r["a_final"]
            reasons.append(
                Reason(
                    "score",
                    _("得分 %(f)s，距达标分数线 %(p)s 还差 %(d)s 分")
                    % {"f": f"{r['a_final']:.2f}", "p": _num(campaign.pass_mark), "d": f"{short:.2f}"},
                )
            )
        if r["ok_assessed"] and not r["ok_veto"]:
            veto_check.append(r)
        if not r["ok_no_incident"]:
            incident_check.append(r["id"])
        if not r["ok_conditions"]:
            condition_check.append(r["id"])
    if overturned:
        for a_id, why in Assessment.objects.filter(pk__in=overturned).values_list("id", "overturn_reason"):
            out[overturned[a_id]].insert(0, Reason("approved", _("被抽查否定：%(r)s") % {"r": why or "—"}))
    if veto_check:
        vetoes = {}
        for cat in {r["category_then"] for r in veto_check}:
            vetoes.update({i.id: i for i in scoring.applicable_items(campaign.standard, cat).filter(veto=True)})
        failed: dict[int, list[str]] = {}
        for s in ItemScore.objects.filter(assessment_id__in=[r["a_id"] for r in veto_check], item_id__in=vetoes):
            item = vetoes[s.item_id]
            if scoring.falls_short(item, s.effective_score):
                failed.setdefault(s.assessment_id, []).append(f"{item.code} {item.title}")
        for r in veto_check:
            out[r["id"]].append(
                Reason(
                    "veto", _("一票否决项未达标：%(items)s") % {"items": "；".join(failed.get(r["a_id"], [])) or "—"}
                )
            )
    if incident_check:
        disputes = kinds.subtree(["dispute"])
        for inc in breaking_incidents(campaign, year).filter(unit_id__in=incident_check).order_by("occurred_on"):
            text = _("%(date)s 发生%(kind)s") % {"date": inc.occurred_on.isoformat(), "kind": inc.get_kind_display()}
            if inc.resolution == "resolved" and inc.resolved_on and inc.resolved_on.year > year:
                text += _("（化解于 %(d)s，晚于当年年底）") % {"d": inc.resolved_on.isoformat()}
            elif inc.resolution:
                text += _("（%(r)s）") % {"r": inc.get_resolution_display()}
            elif inc.kind in disputes:
                text += _("（尚未在辖区内化解）")
            out[inc.unit_id].append(Reason("no_incident", text))
    if condition_check:
        held = {
            (c.unit_id, c.kind): c
            for c in UnitCondition.objects.filter(unit_id__in=condition_check, year=year, kind__in=campaign.conditions)
        }
        labels = dict(ConditionKind.choices)
        for unit_id in condition_check:
            for kind in campaign.conditions:
                c = held.get((unit_id, kind))
                if c is not None and c.status == ConditionStatus.CONFIRMED:
                    continue
                if c is None:
                    text = _("%(c)s：尚未确认") % {"c": labels.get(kind, kind)}
                else:
                    text = _("%(c)s：已被抽查撤销（%(r)s）") % {"c": labels.get(kind, kind), "r": c.revoke_reason}
                out[unit_id].append(Reason("conditions", text))
    return out


def reasons_for(unit: Unit, campaign: Campaign, year: int) -> list[Reason]:
    """Why one unit has not attained — empty when it has."""
    return reasons_for_units(Unit.objects.filter(pk=unit.pk), campaign, year).get(unit.pk, [])
