"""The year's official result: close (锁定), public notice (公示), appeal (申诉),
publication (发文命名) and dynamic management (摘牌). docs/attainment.md, "The official
result", describes the steps and the fingerprint's canonical form.

Closing computes the result once — every unit's outcome by the attainment rule
(reports.attainment) in one INSERT … SELECT, every region's figures from a full roll-up
run in the same transaction — into append-only rows (reports.models.ResultUnit,
ResultRegion; a PostgreSQL trigger refuses UPDATE and DELETE). Nothing changes them
afterwards: the nightly roll-up writes the live snapshot only; an upheld appeal's new
outcome is a new row (an amendment) beside the original; a revocation is a record of its
own. The fingerprint is SHA-256 over the rows in canonical form and is kept up to date
with each amendment; `verify` recomputes it from the stored rows.

Every write here is a service: keyword-only, atomic, audited, and it checks role and
jurisdiction itself. The campaign's own level (staff of its scope region) closes,
decides appeals and publishes; a township appeals for its own units.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, CharField, Count, F, Func, Max, Value, When, Window
from django.db.models.functions import Concat, RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspections import evidence as evidence_check
from inspections import services as assessments
from inspections import zeros
from inspections.models import Assessment, ConditionStatus, Incident, Status, UnitCondition
from sanling.kernel.errors import ServiceError
from standards import kinds
from standards.models import Campaign
from supervision.services.notifications import notify, township_officers
from units import access, history
from units.audit import audit
from units.models import LEVEL_ORDER, PREFIX_LENGTH, Level, Region, Role, Unit, User

from . import attainment, rollup
from .models import (
    Appeal,
    AppealStatus,
    AttainmentSnapshot,
    OfficialResult,
    ResultRegion,
    ResultStatus,
    ResultUnit,
    Revocation,
)

CANON = "sanling-official-result/1"
MAX_NOTICE_DAYS = 90
CONDITION_CODES = attainment.CONDITIONS  # the order of `failed`


# --- who ------------------------------------------------------------------------------


def _may_decide(by: User, campaign: Campaign) -> None:
    if not access.acts_for_campaign(by, campaign.scope_id):
        raise PermissionDenied(
            _("只有创建活动所在层级（%(r)s）的工作人员可以锁定结果、处理申诉和发文命名。") % {"r": campaign.scope.name}
        )


def results_for(user: User):
    """The results of the campaigns that concern the user (their jurisdiction overlaps
    the scope); each page then shows the rows of the user's own jurisdiction only."""
    from standards import selectors as campaign_selectors

    if not access.reads_region_figures(user):
        return OfficialResult.objects.none()  # a department's staff: their sector's figures only
    return OfficialResult.objects.filter(
        campaign__in=campaign_selectors.campaigns_for(user, finished=True)
    ).select_related("campaign__scope")


def result_for(user: User, pk) -> OfficialResult:
    """A result the user may see (the same 404 for missing and not theirs)."""
    try:
        return results_for(user).get(pk=pk)
    except (OfficialResult.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def unit_rows(user: User, result: OfficialResult):
    """The result's unit rows inside the user's jurisdiction (by the township of that year)."""
    return result.unit_rows.filter(access.record_q(user, township_field="township_code", kind_field="kind"))


def latest_rows(qs):
    """Of result unit rows, each unit's that counts: the latest (an amendment supersedes
    the original, which stays)."""
    latest = qs.values("unit_id").annotate(last=Max("seq")).values("last")
    return qs.filter(seq__in=latest)


def current_unit_rows(user: User, result: OfficialResult):
    return latest_rows(unit_rows(user, result))


def figures_for(user: User, result: OfficialResult) -> dict:
    """The result's totals in the user's jurisdiction: its region's official figures
    (the campaign's scope for a user above it), all categories together (one query)."""
    region = result.campaign.scope_id
    if user.region_id and result.campaign.covers_region(user.region_id):
        region = user.region_id
    rows = current_region_rows(result, result.region_rows.filter(region_id=region))
    return {
        "region": region,
        "total": sum(r.total_units for r in rows),
        "attained": sum(r.attained_units for r in rows),
    }


def current_region_rows(result: OfficialResult, qs=None):
    """Each (region, category)'s figures that count: the latest row."""
    qs = result.region_rows.all() if qs is None else qs
    latest = qs.values("region_id", "category").annotate(last=Max("seq")).values("last")
    return qs.filter(seq__in=latest)


# --- close ----------------------------------------------------------------------------


def pending_by_township(campaign: Campaign, year: int) -> list[dict]:
    """Assessments still waiting at some level of the chain, per township and level."""
    rows = (
        Assessment.objects.filter(
            campaign=campaign,
            year=year,
            status=Status.SUBMITTED,
            unit__township__code__startswith=campaign.scope.prefix,
        )
        .values("unit__township_id", "unit__township__name", "review_level")
        .annotate(n=Count("id"))
        .order_by("unit__township_id", "review_level")
    )
    return list(rows)


def _pending_message(pending: list[dict]) -> list[str]:
    labels = dict(Level.choices)
    total = sum(p["n"] for p in pending)
    lines = [_("尚有 %(n)s 份自评等待审核，锁定前请先审核完毕；或选择“仍然锁定，待审核的按未达标计”。") % {"n": total}]
    for p in pending[:50]:
        lines.append(
            _("%(t)s：%(n)s 份（待%(l)s审核）")
            % {"t": p["unit__township__name"], "n": p["n"], "l": labels.get(p["review_level"], p["review_level"])}
        )
    return lines


class _RTrimComma(Func):
    function = "RTRIM"
    template = "RTRIM(%(expressions)s, ',')"
    output_field = CharField()


def _outcomes(campaign: Campaign, year: int, units=None):
    """Every unit of the campaign-year with its outcome, as the close stores it: one
    queryset (values) over the attainment rule's conditions."""
    qs = attainment.annotate_conditions(attainment.scope_units(campaign, year), campaign, year)
    if units is not None:
        qs = qs.filter(pk__in=units)
    failed = Concat(
        *[Case(When(**{f"ok_{c}": False}, then=Value(f"{c},")), default=Value("")) for c in CONDITION_CODES],
        output_field=CharField(),
    )
    return qs.annotate(
        r_township=F(history.AS_OF["township"]),
        r_category=F(history.AS_OF["category"]),
        r_kind=F(history.AS_OF["kind"]),
        r_grade=Case(When(attained=True, then=attainment.grade_expr(campaign)), default=Value("")),
        r_failed=_RTrimComma(failed),
    )


def _insert_units(result: OfficialResult, campaign: Campaign, year: int) -> int:
    """All unit rows in one INSERT … SELECT (set-wise: a million units are one statement)."""
    qs = (
        _outcomes(campaign, year)
        .annotate(r_seq=Window(RowNumber(), order_by=F("code").asc()))
        .values(
            "r_seq",
            "id",
            "code",
            "name",
            "r_township",
            "r_category",
            "r_kind",
            "attained",
            "a_final",
            "r_grade",
            "r_failed",
        )
        .order_by()
    )
    sql, params = qs.query.sql_with_params()
    qn = connection.ops.quote_name
    meta = ResultUnit._meta
    cols = [
        "result_id",
        "seq",
        "unit_id",
        "unit_code",
        "unit_name",
        "township_code",
        "category",
        "kind",
        "attained",
        "final_score",
        "grade",
        "failed",
    ]
    source = [
        "r_seq",
        "id",
        "code",
        "name",
        "r_township",
        "r_category",
        "r_kind",
        "attained",
        "a_final",
        "r_grade",
        "r_failed",
    ]
    select = ", ".join(["%s", *[f"q.{qn(c)}" for c in source]])
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(meta.get_field(c).column) for c in cols)}) "  # noqa: S608
            f"SELECT {select} FROM ({sql}) q",
            [result.pk, *params],
        )
    return ResultUnit.objects.filter(result=result).count()


def _insert_regions(result: OfficialResult, campaign: Campaign, year: int) -> None:
    """Every region's figures as the roll-up just wrote them, under their names of that
    year (a few thousand rows)."""
    snap = list(AttainmentSnapshot.objects.filter(campaign=campaign, year=year).select_related("region"))
    names = history.labels_on({r.region_id: r.region for r in snap}.values(), history.year_end(year))
    rows = [
        ResultRegion(
            result=result,
            seq=i,
            region_id=r.region_id,
            region_name=names[r.region_id]["name"],
            level=r.level,
            category=r.category,
            total_units=r.total_units,
            attained_units=r.attained_units,
            rate=r.rate,
            target_rate=r.target_rate,
            met=r.met,
            gap_units=r.gap_units,
        )
        for i, r in enumerate(sorted(snap, key=lambda r: (r.region_id, r.category)), start=1)
    ]
    ResultRegion.objects.bulk_create(rows, batch_size=2000)


# what an outcome is computed from: while a year is closed, no write to these may slip
# between the roll-up's reads and the unit rows' (READ COMMITTED sees each statement's
# own moment)
OUTCOME_TABLES = (
    "inspections_assessment",
    "inspections_itemscore",
    "inspections_incident",
    "units_unit",
    "units_unitstate",
)


def _hold_writers() -> None:
    """Hold every writer of the outcomes' tables until the close commits (SHARE mode:
    readers go on; writers wait the few seconds). On SQLite the close's write transaction
    (BEGIN IMMEDIATE) already holds every writer."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {', '.join(connection.ops.quote_name(t) for t in OUTCOME_TABLES)} IN SHARE MODE")


@transaction.atomic
def result_close(
    *, campaign: Campaign, year, notice_days, by: User, count_pending: bool = False, ip: str | None = None
) -> OfficialResult:
    """Close a campaign-year: the official result, computed once and frozen."""
    _may_decide(by, campaign)
    try:
        year, notice_days = int(year), int(notice_days)
    except (TypeError, ValueError):
        raise ServiceError(_("年度和公示天数须为整数。")) from None
    if not campaign.covers_year(year):
        raise ServiceError({"year": [_("%(y)s 年不在本次创建活动的年度之内。") % {"y": year}]})
    if not 0 <= notice_days <= MAX_NOTICE_DAYS:
        raise ServiceError({"notice_days": [_("公示天数应为 0 至 %(n)s 天。") % {"n": MAX_NOTICE_DAYS}]})
    existing = OfficialResult.objects.filter(campaign=campaign, year=year).first()
    if existing is not None:
        raise ServiceError(
            _("%(c)s %(y)s 年度的结果已于 %(d)s 锁定，不能重复锁定。")
            % {"c": campaign.name, "y": year, "d": timezone.localtime(existing.closed_at).strftime("%Y-%m-%d %H:%M")}
        )
    _hold_writers()
    pending = pending_by_township(campaign, year)
    if pending and not count_pending:
        raise ServiceError({"pending": _pending_message(pending)})
    rollup.run(campaign_id=campaign.pk, year=year)  # the figures as they are now, in this transaction
    now = timezone.now()
    try:
        with transaction.atomic():
            result = OfficialResult.objects.create(
                campaign=campaign,
                campaign_slug=campaign.slug,
                year=year,
                closed_at=now.replace(microsecond=0),
                closed_by=by,
                notice_days=notice_days,
                notice_ends_on=timezone.localdate(now) + dt.timedelta(days=notice_days),
                pending_counted=sum(p["n"] for p in pending),
                digest="",
            )
    except IntegrityError:
        raise ServiceError(_("该年度的结果刚刚已被锁定。")) from None
    result.units_total = _insert_units(result, campaign, year)
    _insert_regions(result, campaign, year)
    result.digest = fingerprint(result)
    result.save(update_fields=["units_total", "digest"])
    audit(
        actor=by,
        action="result.closed",
        target=result,
        detail={
            "campaign": campaign.slug,
            "year": year,
            "units": result.units_total,
            "pending_counted": result.pending_counted,
            "notice_days": notice_days,
            "digest": result.digest,
        },
        ip=ip,
    )
    return result


# --- the fingerprint ------------------------------------------------------------------


def _dec(value, places: int):
    return None if value is None else f"{Decimal(value):.{places}f}"


def canonical_lines(result: OfficialResult):
    """The canonical form, line by line: a header, then every unit row, then every region
    row, in their order (seq); each line a compact JSON array (docs/attainment.md)."""
    closed = result.closed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    yield json.dumps(
        [CANON, result.campaign_slug, result.year, closed, result.notice_days],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    units = (
        ResultUnit.objects.filter(result=result)
        .order_by("seq")
        .values_list(
            "seq",
            "unit_code",
            "unit_name",
            "township_code",
            "category",
            "kind",
            "attained",
            "final_score",
            "grade",
            "failed",
            "appeal_id",
            "amends__seq",
        )
    )
    for seq, code, name, township, cat, kind, ok, final, grade, failed, appeal, amends in units.iterator(5000):
        line = ["U", seq, code, name, township, cat, kind, ok, _dec(final, 2), grade, failed, appeal, amends]
        yield json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    regions = (
        ResultRegion.objects.filter(result=result)
        .order_by("seq")
        .values_list(
            "seq",
            "region_id",
            "region_name",
            "level",
            "category",
            "total_units",
            "attained_units",
            "rate",
            "target_rate",
            "met",
            "gap_units",
            "appeal_id",
        )
    )
    for seq, code, name, level, cat, total, attained_n, rate, target, met, gap, appeal in regions.iterator(5000):
        line = ["R", seq, code, name, level, cat, total, attained_n, _dec(rate, 6), _dec(target, 4), met, gap, appeal]
        yield json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def fingerprint(result: OfficialResult) -> str:
    h = hashlib.sha256()
    for line in canonical_lines(result):
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def verify(result: OfficialResult) -> dict:
    """Recompute the fingerprint from the stored rows and compare it with the stored one."""
    digest = fingerprint(result)
    return {"ok": digest == result.digest, "digest": digest, "stored": result.digest}


# --- appeals --------------------------------------------------------------------------


def in_notice(result: OfficialResult, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return result.status == ResultStatus.NOTICE and today < result.notice_ends_on


@transaction.atomic
def appeal_file(
    *, result: OfficialResult, unit: Unit, reason: str, by: User, upload=None, ip: str | None = None
) -> Appeal:
    """A township appeals for its unit, during the notice, once."""
    if not access.can_self_assess(by):
        raise PermissionDenied(_("只有乡镇/街道工作人员可以为本单位提出申诉。"))
    unit = access.unit_for(by, unit.pk)  # another township's unit: the same 404 as a missing one
    result = OfficialResult.objects.select_for_update().select_related("campaign").get(pk=result.pk)
    if result.status == ResultStatus.PUBLISHED:
        raise ServiceError(_("该年度结果已发文命名，不能再申诉。"))
    if not in_notice(result):
        raise ServiceError(
            _("公示期已于 %(d)s 结束，不能再申诉。") % {"d": result.notice_ends_on - dt.timedelta(days=1)}
            if result.notice_days
            else _("该年度结果未设公示期，不受理申诉。")
        )
    if not result.unit_rows.filter(unit=unit).exists():
        raise ServiceError(_("“%(u)s”不在该年度的结果之中。") % {"u": unit.name})
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"reason": [_("请填写申诉理由。")]})
    if len(reason) > 2000:
        raise ServiceError({"reason": [_("申诉理由最多 2000 字。")]})
    earlier = Appeal.objects.filter(result=result, unit=unit).first()
    if earlier is not None:
        raise ServiceError(
            _("“%(u)s”已于 %(d)s 提出申诉（%(s)s），不能重复申诉。")
            % {
                "u": unit.name,
                "d": timezone.localtime(earlier.filed_at).strftime("%Y-%m-%d"),
                "s": earlier.get_status_display(),
            }
        )
    appeal = Appeal(result=result, unit=unit, reason=reason, filed_by=by)
    if upload is not None:
        try:
            appeal.evidence_type = evidence_check.check(upload)
        except evidence_check.EvidenceError as exc:
            raise ServiceError({"evidence": [str(exc)]}) from exc
        appeal.evidence_name = upload.name[:200]
        appeal.evidence.save(upload.name, upload, save=False)
    appeal._history_user = by
    appeal.save()
    audit(actor=by, action="appeal.filed", target=appeal, detail={"unit": unit.code, "result": result.pk}, ip=ip)
    deciders = User.objects.filter(
        region_id=result.campaign.scope_id, role__in=access.STAFF_ROLES, is_active=True
    ).exclude(role=Role.ADMIN)
    notify(
        deciders,
        key=f"appeal:{appeal.pk}:filed",
        message=_("收到申诉：%(u)s（%(c)s %(y)s 年度）。理由：%(r)s")
        % {"u": unit.name, "c": result.campaign.name, "y": result.year, "r": reason},
        link=reverse("reports:result", args=[result.pk]),
        email_subject=_("【三零创建】收到新的申诉"),
    )
    return appeal


def appeal_for(user: User, pk) -> Appeal:
    """An appeal the user may see: of a result that concerns them, for a unit they see."""
    qs = Appeal.objects.filter(result__in=results_for(user)).select_related("result__campaign__scope", "unit")
    return access.object_for(user, qs, pk)


@transaction.atomic
def appeal_decide(*, appeal: Appeal, outcome: str, reason: str, by: User, ip: str | None = None) -> Appeal:
    """The campaign's level upholds or rejects an appeal. Upheld: the unit's assessment is
    re-opened for review (an approved, returned or overturned one); its outcome enters the
    result as an amendment when the chain approves it again."""
    appeal = Appeal.objects.select_for_update().select_related("result__campaign__scope", "unit").get(pk=appeal.pk)
    result = appeal.result
    _may_decide(by, result.campaign)
    if appeal.filed_by_id is not None and appeal.filed_by_id == by.pk:
        raise PermissionDenied(_("不能处理自己提出的申诉。"))
    if appeal.status != AppealStatus.PENDING:
        raise ServiceError(_("该申诉已处理（%(s)s），不能重复处理。") % {"s": appeal.get_status_display()})
    if result.status == ResultStatus.PUBLISHED:
        raise ServiceError(_("该年度结果已发文命名，申诉不能再处理。"))
    if outcome not in (AppealStatus.UPHELD, AppealStatus.REJECTED):
        raise ServiceError({"outcome": [_("处理结果只能是“申诉成立”（upheld）或“申诉不成立”（rejected）。")]})
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"reason": [_("请填写处理意见。")]})
    if len(reason) > 2000:
        raise ServiceError({"reason": [_("处理意见最多 2000 字。")]})
    if outcome == AppealStatus.UPHELD:
        a = Assessment.objects.filter(unit=appeal.unit, campaign=result.campaign, year=result.year).first()
        if a is not None and a.status in (Status.APPROVED, Status.RETURNED, Status.OVERTURNED):
            assessments.assessment_reopen(assessment=a, reason=_("申诉成立：%(r)s") % {"r": reason}, by=by)
    appeal.status, appeal.decision_reason = outcome, reason
    appeal.decided_by, appeal.decided_at, appeal._history_user = by, timezone.now(), by
    appeal.save()
    audit(actor=by, action=f"appeal.{outcome}", target=appeal, detail={"unit": appeal.unit.code}, ip=ip)
    notify(
        township_officers(appeal.unit.township_id),
        key=f"appeal:{appeal.pk}:{outcome}",
        message=_("申诉已处理：%(u)s —— %(o)s。处理意见：%(r)s")
        % {"u": appeal.unit.name, "o": appeal.get_status_display(), "r": reason},
        link=reverse("reports:result", args=[result.pk]),
        email_subject=_("【三零创建】申诉处理结果"),
    )
    return appeal


def _path_codes(township_code: str) -> list[str]:
    """The township's code and every ancestor's, as region codes."""
    return [township_code[: PREFIX_LENGTH[lvl]].ljust(12, "0") for lvl in LEVEL_ORDER]


@transaction.atomic
def record_amendment(*, appeal: Appeal) -> ResultUnit | None:
    """An upheld appeal's unit, approved again by the chain: its new outcome as a new
    row, and — if it now attains, or no longer does — new figures for each region on its
    township's path. The fingerprint then covers them."""
    appeal = Appeal.objects.select_for_update().select_related("result__campaign__scope").get(pk=appeal.pk)
    result = appeal.result
    if appeal.status != AppealStatus.UPHELD or appeal.amended_at is not None:
        return None
    OfficialResult.objects.select_for_update().filter(pk=result.pk).first()  # one amendment at a time
    previous = result.unit_rows.filter(unit_id=appeal.unit_id).order_by("-seq").first()
    outcome = _outcomes(result.campaign, result.year, units=[appeal.unit_id]).first()
    if previous is None or outcome is None:
        return None
    seq = (result.unit_rows.aggregate(m=Max("seq"))["m"] or 0) + 1
    row = ResultUnit.objects.create(
        result=result,
        seq=seq,
        unit_id=appeal.unit_id,
        unit_code=previous.unit_code,
        unit_name=previous.unit_name,
        township_code=previous.township_code,
        category=previous.category,
        kind=previous.kind,
        attained=bool(outcome.attained),
        final_score=outcome.a_final,
        grade=outcome.r_grade,
        failed=outcome.r_failed,
        appeal=appeal,
        amends=previous,
    )
    if row.attained != previous.attained:
        delta = 1 if row.attained else -1
        next_seq = (result.region_rows.aggregate(m=Max("seq"))["m"] or 0) + 1
        path = current_region_rows(
            result, result.region_rows.filter(region_id__in=_path_codes(row.township_code), category=row.category)
        ).order_by("region_id")
        fresh = []
        for r in path:
            attained_n = r.attained_units + delta
            rate, met, gap = attainment.figures(r.total_units, attained_n, r.target_rate)
            fresh.append(
                ResultRegion(
                    result=result,
                    seq=next_seq + len(fresh),
                    region_id=r.region_id,
                    region_name=r.region_name,
                    level=r.level,
                    category=r.category,
                    total_units=r.total_units,
                    attained_units=attained_n,
                    rate=rate,
                    target_rate=r.target_rate,
                    met=met,
                    gap_units=gap,
                    appeal=appeal,
                )
            )
        ResultRegion.objects.bulk_create(fresh)
    result.digest = fingerprint(result)
    result.save(update_fields=["digest"])
    appeal.amended_at = timezone.now()
    appeal.save(update_fields=["amended_at"])
    audit(
        actor=None,
        action="result.amended",
        target=result,
        detail={"appeal": appeal.pk, "unit": row.unit_code, "attained": row.attained, "digest": result.digest},
    )
    return row


# --- publication ----------------------------------------------------------------------


def open_appeals(result: OfficialResult) -> list[str]:
    """Why the result cannot be published yet, appeal by appeal."""
    out = []
    for ap in result.appeals.select_related("unit").exclude(status=AppealStatus.REJECTED):
        if ap.status == AppealStatus.PENDING:
            out.append(_("“%(u)s”的申诉尚未处理。") % {"u": ap.unit.name})
        elif ap.amended_at is None:
            out.append(_("“%(u)s”的申诉已成立，复核尚未完成（自评须重新审核通过）。") % {"u": ap.unit.name})
    return out


@transaction.atomic
def result_publish(
    *, result: OfficialResult, document_number: str, issued_on, issuer: str, by: User, ip: str | None = None
) -> OfficialResult:
    """Publish after the notice: the named list under a document number (文号), as a PDF
    laid out as an official notice, kept with its own SHA-256."""
    result = OfficialResult.objects.select_for_update().select_related("campaign__scope").get(pk=result.pk)
    _may_decide(by, result.campaign)
    if result.status == ResultStatus.PUBLISHED:
        raise ServiceError(
            _("该年度结果已于 %(d)s 发文命名（%(n)s）。") % {"d": result.issued_on, "n": result.document_number}
        )
    today = timezone.localdate()
    if today < result.notice_ends_on:
        raise ServiceError(
            _("公示期至 %(d)s 结束（共 %(n)s 天），之后才能发文命名。")
            % {"d": result.notice_ends_on - dt.timedelta(days=1), "n": result.notice_days}
        )
    blocking = open_appeals(result)
    if blocking:
        raise ServiceError(blocking)
    errors = {}
    document_number, issuer = (document_number or "").strip(), (issuer or "").strip()
    if not document_number:
        errors["document_number"] = [_("请填写文号。")]
    elif len(document_number) > 100:
        errors["document_number"] = [_("文号最多 100 字。")]
    if not issuer:
        errors["issuer"] = [_("请填写发文机关。")]
    elif len(issuer) > 200:
        errors["issuer"] = [_("发文机关最多 200 字。")]
    if isinstance(issued_on, str):
        try:
            issued_on = dt.date.fromisoformat(issued_on)
        except ValueError:
            issued_on = None
    if not isinstance(issued_on, dt.date):
        errors["issued_on"] = [_("请填写发文日期（YYYY-MM-DD）。")]
    elif issued_on > today or issued_on < timezone.localdate(result.closed_at):
        errors["issued_on"] = [_("发文日期应在锁定日期与今天之间。")]
    if errors:
        raise ServiceError(errors)
    check = verify(result)
    if not check["ok"]:
        raise ServiceError(_("结果的数字指纹与存储的不一致，不能发文：请联系管理员核查。"))
    result.status, result.document_number, result.issued_on, result.issuer = (
        ResultStatus.PUBLISHED,
        document_number,
        issued_on,
        issuer,
    )
    result.published_at, result.published_by, result.published_digest = timezone.now(), by, result.digest
    result.save()
    # a named unit overturned, or with an incident recorded, since the close loses its title
    # from the day of publication (the notice is for appeals, not for hiding it); the notice
    # names the others and says how many were not named for that
    named = latest_rows(result.unit_rows.all()).filter(attained=True).values("unit_id")
    _revoke_for_causes(result, named, by)
    from .official import render_pdf

    pdf = render_pdf(result)
    result.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    result.pdf.save(f"{result.campaign.slug}-{result.year}-{result.pk}.pdf", ContentFile(pdf), save=False)
    result.save(update_fields=["pdf", "pdf_sha256"])
    audit(
        actor=by,
        action="result.published",
        target=result,
        detail={
            "document_number": document_number,
            "issued_on": issued_on.isoformat(),
            "issuer": issuer,
            "digest": result.digest,
            "pdf_sha256": result.pdf_sha256,
        },
        ip=ip,
    )
    return result


# --- dynamic management (摘牌) ----------------------------------------------------------


def _named(result: OfficialResult, unit_id: int) -> bool:
    row = result.unit_rows.filter(unit_id=unit_id).order_by("-seq").first()
    return bool(row and row.attained)


def _published_for(unit_id: int, campaign_id: int | None = None, year: int | None = None):
    qs = OfficialResult.objects.filter(status=ResultStatus.PUBLISHED, unit_rows__unit_id=unit_id).distinct()
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id, year=year)
    return qs.select_related("campaign")


@transaction.atomic
def revoke(*, result: OfficialResult, unit_id: int, reason: str, source: str, source_id: int, by: User | None):
    """A named unit's title taken away from today; nothing of the result changes."""
    if not _named(result, unit_id):
        return None
    if result.revocations.filter(unit_id=unit_id, lifted_on__isnull=True).exists():
        return None
    rev = Revocation.objects.create(
        result=result,
        unit_id=unit_id,
        reason=reason,
        on=timezone.localdate(),
        source=source,
        source_id=source_id,
        by=by,
    )
    audit(actor=by, action="result.revoked", target=rev, detail={"result": result.pk, "unit": unit_id})
    return rev


def standing_causes(result: OfficialResult, unit_ids) -> dict[int, tuple[str, int, str]]:
    """Why named units should lose their title now: an incident of the campaign's
    zero-kinds in the result's year or later, recorded since the close and not dismissed;
    or the year's assessment overturned by a spot check. {unit: (source, id, reason)}."""
    if not hasattr(unit_ids, "query"):  # a queryset stays a subquery (a million named units)
        unit_ids = list(unit_ids)
    out: dict[int, tuple[str, int, str]] = {}
    for a in Assessment.objects.filter(
        unit_id__in=unit_ids, campaign=result.campaign, year=result.year, status=Status.OVERTURNED
    ):
        out[a.unit_id] = ("spot_check", a.pk, _("抽查否定：%(r)s") % {"r": a.overturn_reason[:200]})
    incidents = Incident.objects.filter(
        zeros.breaking_q(result.campaign.zero_kinds),
        unit_id__in=unit_ids,
        occurred_on__gte=dt.date(result.year, 1, 1),
        recorded_at__gte=result.closed_at,
    ).order_by("occurred_on", "id")
    if result.campaign.conditions:
        for c in UnitCondition.objects.filter(
            unit_id__in=unit_ids,
            kind__in=result.campaign.conditions,
            year=result.year,
            status=ConditionStatus.REVOKED,
            revoked_at__gte=result.closed_at,
        ):
            out.setdefault(
                c.unit_id,
                (
                    "condition",
                    c.pk,
                    _("%(c)s被抽查撤销：%(r)s") % {"c": c.get_kind_display(), "r": c.revoke_reason[:200]},
                ),
            )
    for inc in incidents:
        out.setdefault(
            inc.unit_id,
            (
                "incident",
                inc.pk,
                _("%(d)s 发生%(k)s：%(t)s")
                % {"d": inc.occurred_on.isoformat(), "k": inc.get_kind_display(), "t": inc.description[:200]},
            ),
        )
    return out


def _revoke_for_causes(result: OfficialResult, unit_ids, by: User | None) -> None:
    for unit_id, (source, source_id, reason) in standing_causes(result, unit_ids).items():
        revoke(result=result, unit_id=unit_id, reason=reason, source=source, source_id=source_id, by=by)


def on_incident_changed(sender, *, incident_id: int, unit_id: int, action: str, **kwargs) -> None:
    """After publication, an incident of a campaign's zero-kinds in the result's year or
    later revokes the unit's title; its dismissal lifts the revocation (recorded)."""
    inc = Incident.objects.filter(pk=incident_id).first()
    if inc is None:
        return
    for result in _published_for(unit_id):
        if inc.occurred_on.year < result.year or inc.kind not in kinds.subtree(result.campaign.zero_kinds):
            continue
        if action == "dismissed" or not zeros.breaks(inc, result.campaign.zero_kinds):
            lifted = False
            for rev in result.revocations.filter(unit_id=unit_id, source="incident", source_id=inc.pk, lifted_on=None):
                why = inc.reason or inc.higher_level_reason or (inc.get_resolution_display() if inc.resolution else "")
                rev.lifted_on, rev.lifted_reason = timezone.localdate(), why
                rev.save(update_fields=["lifted_on", "lifted_reason"])
                audit(actor=inc.judged_by, action="result.revocation_lifted", target=rev, detail={"incident": inc.pk})
                lifted = True
            if lifted:  # another incident or an overturn may still stand: it revokes anew
                _revoke_for_causes(result, [unit_id], inc.judged_by)
            continue
        revoke(
            result=result,
            unit_id=unit_id,
            reason=_("%(d)s 发生%(k)s：%(t)s")
            % {"d": inc.occurred_on.isoformat(), "k": inc.get_kind_display(), "t": inc.description[:200]},
            source="incident",
            source_id=inc.pk,
            by=inc.recorded_by,
        )


def on_condition_changed(sender, *, unit_id: int, year: int, kind: str, action: str, **kwargs) -> None:
    """After publication, a spot check revoking a named unit's condition (零盲区) of the
    result's year takes its title away; confirming it again lifts that revocation (and
    another standing cause revokes anew)."""
    c = UnitCondition.objects.filter(unit_id=unit_id, year=year, kind=kind).first()
    if c is None:
        return
    for result in _published_for(unit_id).filter(year=year):
        if kind not in (result.campaign.conditions or []):
            continue
        if action == "revoked":
            revoke(
                result=result,
                unit_id=unit_id,
                reason=_("%(c)s被抽查撤销：%(r)s") % {"c": c.get_kind_display(), "r": c.revoke_reason[:200]},
                source="condition",
                source_id=c.pk,
                by=c.revoked_by,
            )
            continue
        lifted = False
        for rev in result.revocations.filter(unit_id=unit_id, source="condition", source_id=c.pk, lifted_on=None):
            rev.lifted_on, rev.lifted_reason = timezone.localdate(), _("已重新确认")
            rev.save(update_fields=["lifted_on", "lifted_reason"])
            audit(actor=c.confirmed_by, action="result.revocation_lifted", target=rev, detail={"condition": c.pk})
            lifted = True
        if lifted:
            _revoke_for_causes(result, [unit_id], c.confirmed_by)


def on_assessment_decided(sender, *, assessment_id: int, unit_id: int, campaign_id: int, year: int, action, **kw):
    """An overturning spot check after publication revokes; an approval after an upheld
    appeal enters the result as an amendment."""
    if action == "overturned":
        a = Assessment.objects.filter(pk=assessment_id).first()
        for result in _published_for(unit_id, campaign_id, year):
            revoke(
                result=result,
                unit_id=unit_id,
                reason=_("抽查否定：%(r)s") % {"r": (a.overturn_reason if a else "")[:200]},
                source="spot_check",
                source_id=assessment_id,
                by=None,
            )
    elif action == "approved":
        for appeal in Appeal.objects.filter(
            result__campaign_id=campaign_id,
            result__year=year,
            result__status=ResultStatus.NOTICE,
            unit_id=unit_id,
            status=AppealStatus.UPHELD,
            amended_at__isnull=True,
        ):
            record_amendment(appeal=appeal)


# --- year on year (数量逐年上升) -----------------------------------------------------------


def fell_since_previous(result: OfficialResult) -> set[tuple[str, str]]:
    """(region, category) whose official attained count or rate fell below the previous
    year's official result of the same campaign."""
    previous = OfficialResult.objects.filter(campaign=result.campaign, year=result.year - 1).first()
    if previous is None:
        return set()
    before = {(r.region_id, r.category): r for r in current_region_rows(previous)}
    out = set()
    for r in current_region_rows(result):
        p = before.get((r.region_id, r.category))
        if p is not None and (r.attained_units < p.attained_units or r.rate < p.rate):
            out.add((r.region_id, r.category))
    return out


def official_by_year(campaign: Campaign, region: Region, closed: dict | None = None) -> dict[int, dict]:
    """The official figures of a region, per closed year and category (the trend chart
    marks official years); `closed`: the campaign's results by year, if already read."""
    out: dict[int, dict] = defaultdict(dict)
    closed = {r.year: r for r in OfficialResult.objects.filter(campaign=campaign)} if closed is None else closed
    for result in closed.values():
        for r in current_region_rows(result, result.region_rows.filter(region=region)):
            out[result.year][r.category] = r
    return dict(out)
