"""考核: the appraisal of regions (counties in a city, cities in the province) and of
departments for a campaign-year, the ranking with its components, the circular (通报) and
the commendation list (表彰). The formula (docs/appraisal.md), with weights from the
campaign's AppraisalScheme (data, summing to 100):

    score = Σ weight × part,  each part between 0 and 1:

    attainment  mean over the campaign's categories of min(1, rate ÷ target)
                (no target: the rate itself)
    rise        the share of last year's shortfall closed this year:
                (rate − rate_prev) ÷ (1 − rate_prev), between 0 and 1; 1 when last year
                was already at 100 % or this is the campaign's first year
    tasks       1 − (tasks due this year that went overdue ÷ tasks due this year); 1 without tasks
    deviation   1 − min(1, mean over-scoring ÷ deviation_zero), the mean over-scoring
                being max(0, self − inspector) over the year's spot checks; 1 without checks
    actions     mean completion (0–1) of the special actions' targets; 1 without actions

一票否决: a region with an incident of severity 重大 or 特别重大 in the year, not
dismissed, is vetoed: its score is shown, it is ranked after every region that is not,
and the incident is named beside it.

Departments (of the region and of its child regions): tasks they lead due this year
closed on time (closed and never overdue ÷ all; 1 without tasks), and the mean completion
of the special actions their kind leads in their region (1 without), weighted by the
scheme's department weights.

Every figure is read set-wise: one grouped query per part over the child regions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Avg, Case, Count, DecimalField, F, Q, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from inspections.models import MAJOR_SEVERITIES, Incident, IncidentStatus
from sanling.kernel.errors import ServiceError
from standards.models import Campaign
from supervision import actions as special_actions
from supervision.models import CheckStatus, Rectification, SpecialAction, SpotCheck, TaskStatus
from units import access
from units.audit import audit
from units.models import PREFIX_LENGTH, Department, Level, Region, User, child_level, valid_q

from .models import AppraisalScheme, AttainmentSnapshot, OfficialResult, ResultStatus
from .results import latest_rows

PARTS = ("attainment", "rise", "tasks", "deviation", "actions")
REGION_WEIGHTS = tuple(f"w_{p}" for p in PARTS)
DEPT_WEIGHTS = ("dept_w_tasks", "dept_w_actions")
ONE, ZERO = Decimal(1), Decimal(0)


def scheme_for(campaign: Campaign) -> AppraisalScheme:
    """The campaign's scheme, or the default weights (not stored) until someone sets them."""
    return AppraisalScheme.objects.filter(campaign=campaign).first() or AppraisalScheme(campaign=campaign)


def can_set_scheme(user: User, campaign: Campaign) -> bool:
    return access.acts_for_campaign(user, campaign.scope_id)


@transaction.atomic
def scheme_set(*, campaign: Campaign, by: User, **values) -> AppraisalScheme:
    """Set the weights (each a whole number 0–100; the region set and the department set
    each summing to 100), the deviation at which that part is 0, and how many to commend.
    Audited, with the old and new values."""
    if not can_set_scheme(by, campaign):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("只有活动所在层级（%(r)s）可以修改考核方案。") % {"r": campaign.scope.name})
    scheme = AppraisalScheme.objects.select_for_update().filter(campaign=campaign).first() or AppraisalScheme(
        campaign=campaign
    )
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    for name in (*REGION_WEIGHTS, *DEPT_WEIGHTS, "commend_regions", "commend_units"):
        raw = values.get(name, getattr(scheme, name))
        try:
            number = int(str(raw).strip())
        except (TypeError, ValueError):
            errors[name] = [_("“%(v)s”不是整数。") % {"v": raw}]
            continue
        if not 0 <= number <= 100:
            errors[name] = [_("应在 0 到 100 之间。")]
            continue
        clean[name] = number
    try:
        zero = Decimal(str(values.get("deviation_zero", scheme.deviation_zero)).strip())
        if not zero.is_finite() or zero <= 0 or zero > 100:
            raise ValueError
        clean["deviation_zero"] = zero
    except (ValueError, ArithmeticError):
        errors["deviation_zero"] = [_("偏差归零分值应为大于 0、不超过 100 的数。")]
    if not errors:
        total = sum(clean[n] for n in REGION_WEIGHTS)
        if total != 100:
            errors["__all__"] = [_("区域考核各项权重之和为 %(n)s，应为 100。") % {"n": total}]
        dept_total = sum(clean[n] for n in DEPT_WEIGHTS)
        if dept_total != 100:
            errors.setdefault("__all__", []).append(_("部门考核各项权重之和为 %(n)s，应为 100。") % {"n": dept_total})
    if errors:
        raise ServiceError(errors)
    before = {n: str(getattr(scheme, n)) for n in clean}
    for name, value in clean.items():
        setattr(scheme, name, value)
    scheme.updated_by = by
    scheme._history_user = by
    scheme.save()
    audit(
        actor=by,
        action="appraisal.scheme",
        target=scheme,
        detail={"before": before, "after": {n: str(v) for n, v in clean.items()}},
    )
    return scheme


def _q2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clamp(value: Decimal) -> Decimal:
    return max(ZERO, min(ONE, value))


@dataclass
class RegionAppraisal:
    region: Region
    parts: dict[str, Decimal]
    facts: dict[str, object]
    score: Decimal
    vetoes: list[Incident] = field(default_factory=list)
    rank: int | None = None

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)


def _regions(parent: Region) -> list[Region]:
    """The regions appraised under `parent`: its children (a county: itself)."""
    if parent.level == Level.COUNTY:
        return [parent]
    level = child_level(parent.level)
    if level is None:
        return []
    return list(Region.objects.filter(valid_q(_today()), level=level, code__startswith=parent.prefix).order_by("code"))


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _rates(campaign: Campaign, year: int, regions: list[Region]) -> dict[str, dict]:
    out: dict[str, dict] = {r.code: {"cats": [], "total": 0, "attained": 0} for r in regions}
    for s in AttainmentSnapshot.objects.filter(campaign=campaign, year=year, region__in=regions):
        entry = out[s.region_id]
        entry["total"] += s.total_units
        entry["attained"] += s.attained_units
        if s.total_units:
            entry["cats"].append((s.category, Decimal(s.rate), s.target_rate))
    return out


def _attainment_part(entry: dict) -> Decimal:
    parts = []
    for _cat, rate, target in entry["cats"]:
        parts.append(_clamp(rate / Decimal(target)) if target else _clamp(rate))
    return sum(parts, ZERO) / len(parts) if parts else ZERO


def _overall(entry: dict) -> Decimal | None:
    return Decimal(entry["attained"]) / Decimal(entry["total"]) if entry["total"] else None


def appraise(campaign: Campaign, year: int, parent: Region) -> list[RegionAppraisal]:
    """The ranking of the regions under `parent` (a city's counties, the province's
    cities; a county alone), best first, vetoed regions last."""
    scheme = scheme_for(campaign)
    regions = _regions(parent)
    if not regions:
        return []
    length = PREFIX_LENGTH[regions[0].level]
    now = _rates(campaign, year, regions)
    before = _rates(campaign, year - 1, regions) if campaign.covers_year(year - 1) else None

    tasks = {
        t["child"]: t
        for t in Rectification.objects.filter(deadline__year=year, township__code__startswith=parent.prefix)
        .annotate(child=Substr("township_id", 1, length))
        .values("child")
        .annotate(n=Count("id"), late=Count("id", filter=Q(overdue=True)))
    }
    over = Case(
        When(self_final__gt=F("inspector_final"), then=F("self_final") - F("inspector_final")),
        default=Value(Decimal(0)),
        output_field=DecimalField(max_digits=6, decimal_places=2),
    )
    checks = {
        c["child"]: c
        for c in SpotCheck.objects.filter(
            inspection__campaign=campaign,
            inspection__year=year,
            unit__township__code__startswith=parent.prefix,
            self_final__isnull=False,
            inspector_final__isnull=False,
        )
        .exclude(status=CheckStatus.PENDING)
        .annotate(child=Substr("unit__township_id", 1, length))
        .values("child")
        .annotate(n=Count("id"), mean=Avg(over))
    }
    progress: dict[str, list[Decimal]] = {}
    for action in SpecialAction.objects.filter(campaign=campaign).prefetch_related("targets"):
        for row in special_actions.progress(action, year, parent):
            progress.setdefault(row.code[:length], []).append(row.completion)
    vetoes: dict[str, list[Incident]] = {}
    for inc in (
        Incident.objects.filter(
            severity__in=MAJOR_SEVERITIES,
            occurred_on__year=year,
            unit__township__code__startswith=parent.prefix,
        )
        .exclude(status=IncidentStatus.DISMISSED)
        .select_related("unit")
        .order_by("occurred_on", "id")
    ):
        vetoes.setdefault(inc.unit.township_id[:length], []).append(inc)

    out = []
    for r in regions:
        key = r.prefix
        rate, prev = _overall(now[r.code]), _overall(before[r.code]) if before else None
        if rate is None:
            rise = ZERO  # nothing to appraise this year
        elif prev is None or prev >= ONE:
            rise = ONE  # the first year, or no shortfall left to close
        else:
            rise = _clamp((rate - prev) / (ONE - prev))
        t = tasks.get(key, {"n": 0, "late": 0})
        c = checks.get(key)
        mean_over = Decimal(c["mean"]) if c and c["mean"] is not None else None
        done = progress.get(key, [])
        parts = {
            "attainment": _attainment_part(now[r.code]),
            "rise": rise,
            "tasks": ONE - Decimal(t["late"]) / Decimal(t["n"]) if t["n"] else ONE,
            "deviation": ONE - min(ONE, mean_over / scheme.deviation_zero) if mean_over is not None else ONE,
            "actions": sum(done, ZERO) / len(done) if done else ONE,
        }
        score = _q2(sum((Decimal(getattr(scheme, f"w_{p}")) * parts[p] for p in PARTS), ZERO))
        out.append(
            RegionAppraisal(
                region=r,
                parts={p: v.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) for p, v in parts.items()},
                facts={
                    "rate": rate,
                    "previous_rate": prev,
                    "tasks": t["n"],
                    "late_tasks": t["late"],
                    "checks": c["n"] if c else 0,
                    "mean_over": mean_over,
                    "targets": len(done),
                },
                score=score,
                vetoes=vetoes.get(key, []),
            )
        )
    out.sort(key=lambda a: (a.vetoed, -a.score, a.region.code))
    for n, a in enumerate([a for a in out if not a.vetoed], start=1):
        a.rank = n
    return out


@dataclass
class DepartmentAppraisal:
    department: Department
    tasks: int
    on_time: int
    late: int
    open: int
    actions: Decimal | None
    score: Decimal


def appraise_departments(campaign: Campaign, year: int, parent: Region) -> list[DepartmentAppraisal]:
    """The departments of `parent` and of its child regions: tasks they lead due in the
    year closed on time, and the completion of the special actions their kind leads in
    their region."""
    scheme = scheme_for(campaign)
    regions = [parent, *(_regions(parent) if parent.level != Level.COUNTY else [])]
    departments = list(
        Department.objects.filter(region__in=regions, active=True)
        .select_related("region")
        .order_by("region_id", "kind")
    )
    tasks = {
        t["lead_department_id"]: t
        for t in Rectification.objects.filter(deadline__year=year, lead_department__in=departments)
        .values("lead_department_id")
        .annotate(
            n=Count("id"),
            on_time=Count("id", filter=Q(status=TaskStatus.CLOSED, overdue=False)),
            late=Count("id", filter=Q(overdue=True)),
            open=Count("id", filter=~Q(status=TaskStatus.CLOSED)),
        )
    }
    # one progress read per action: rows for the child regions of `parent` (a county: itself)
    completion: dict[tuple[str, str], list[Decimal]] = {}
    for action in SpecialAction.objects.filter(campaign=campaign).prefetch_related("targets"):
        rows = special_actions.progress(action, year, parent)
        for row in rows:
            completion.setdefault((action.lead_kind, row.code), []).append(row.completion)
            if row.code != parent.code:  # the parent's own: the mean of its children's
                completion.setdefault((action.lead_kind, parent.code), []).append(row.completion)
    out = []
    for d in departments:
        t = tasks.get(d.pk, {"n": 0, "on_time": 0, "late": 0, "open": 0})
        if not t["n"] and (d.kind, d.region_id) not in completion:
            continue  # neither tasks nor actions: nothing to appraise
        done = completion.get((d.kind, d.region_id))
        task_part = Decimal(t["on_time"]) / Decimal(t["n"]) if t["n"] else ONE
        action_part = sum(done, ZERO) / len(done) if done else None
        score = _q2(
            Decimal(scheme.dept_w_tasks) * task_part
            + Decimal(scheme.dept_w_actions) * (action_part if action_part is not None else ONE)
        )
        out.append(
            DepartmentAppraisal(
                department=d,
                tasks=t["n"],
                on_time=t["on_time"],
                late=t["late"],
                open=t["open"],
                actions=action_part,
                score=score,
            )
        )
    out.sort(key=lambda a: (-a.score, a.department.region_id, a.department.name))
    return out


def commendation(campaign: Campaign, year: int, parent: Region, ranking: list[RegionAppraisal]) -> dict:
    """表彰: the best regions (not vetoed) and the units with the highest official scores of
    the year's published result (none before it is published)."""
    scheme = scheme_for(campaign)
    regions = [a for a in ranking if not a.vetoed][: scheme.commend_regions]
    result = (
        OfficialResult.objects.filter(campaign=campaign, year=year, status=ResultStatus.PUBLISHED)
        .order_by("-id")
        .first()
    )
    units = []
    if result is not None:
        revoked = result.revocations.filter(lifted_on__isnull=True).values("unit_id")
        units = list(
            latest_rows(result.unit_rows.filter(township_code__startswith=parent.prefix))
            .filter(attained=True, final_score__isnull=False)
            .exclude(unit_id__in=revoked)
            .order_by("-final_score", "unit_code")[: scheme.commend_units]
        )
    return {"regions": regions, "units": units, "result": result}


def laggards(ranking: list[RegionAppraisal], n: int = 3) -> list[RegionAppraisal]:
    """通报: the vetoed regions and the last `n` of the others."""
    ranked = [a for a in ranking if not a.vetoed]
    tail = ranked[-n:] if len(ranked) > n else []
    return [*tail, *[a for a in ranking if a.vetoed]]
