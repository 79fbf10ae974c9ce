"""Stored results of the roll-up. Pages and the API read these, never raw units."""

import pgtrigger
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from standards.models import Campaign
from units.models import Category, Level, Region


class AttainmentFigures(models.Model):
    # Derived rows, written only by the roll-up while it holds the campaign-year's
    # RollupState row (whose foreign key is enforced) locked; deleting a campaign still
    # cascades here through Django. Without a database constraint PostgreSQL skips a
    # deferred check per written row at commit (measured: 45 ms for 7,044 snapshot and
    # 7,044 history rows of the 1 M-unit demo); without an index of its own, the unique
    # constraints, which start with campaign, serve its lookups.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    year = models.PositiveIntegerField(_("年度"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    category = models.CharField(_("类别"), max_length=25, choices=Category.choices)
    total_units = models.PositiveIntegerField(_("单位数"))
    attained_units = models.PositiveIntegerField(_("达标数"))
    rate = models.DecimalField(_("达标率"), max_digits=7, decimal_places=6)
    target_rate = models.DecimalField(_("目标"), max_digits=5, decimal_places=4, null=True)
    met = models.BooleanField(_("完成目标"), null=True)
    gap_units = models.PositiveIntegerField(_("差距（单位数）"), default=0)
    # {kind: [total, attained]} — the split by unit kind, so pages need no raw-unit query.
    by_kind = models.JSONField(_("按类型"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        abstract = True


class AttainmentSnapshot(AttainmentFigures):
    """The current figures. A roll-up replaces a campaign-year's rows inside one
    transaction, so readers see the old set or the new one, never a mix."""

    class Meta:
        verbose_name = _("达标统计")
        verbose_name_plural = _("达标统计")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "year", "region", "category"], name="snapshot_unique")
        ]
        indexes = [models.Index(fields=["campaign", "year", "level", "region"], name="snapshot_level_idx")]
        ordering = ["region_id", "category"]


class AttainmentHistory(AttainmentFigures):
    """One row per day per region and category: the trend."""

    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("达标统计历史")
        verbose_name_plural = _("达标统计历史")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "year", "region", "category", "day"], name="history_unique")
        ]
        ordering = ["day"]


class ZeroBreak(models.Model):
    """The full roll-up's working set: the units a breaking incident rules out for a
    campaign-year (reports.attainment.breaking_incidents), one row each. The roll-up
    brings a campaign-year's rows up to date inside its transaction, under the
    RollupState lock (only the changed rows written), then joins them to the units: a hash join PostgreSQL runs on parallel workers where a
    subquery per unit keeps the whole count on one core. Derived, never read elsewhere:
    between roll-ups it holds the last run's set. No database constraints: rows are
    written only from the incidents' own unit ids."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    year = models.PositiveIntegerField()
    unit = models.ForeignKey("units.Unit", on_delete=models.CASCADE, related_name="zero_breaks", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "year", "unit"], name="zero_break_unique")]


class RollupState(models.Model):
    """One row per campaign-year. Locked with select_for_update during a roll-up so two
    roll-ups of the same campaign and year never run at once; `dirty` records that a
    change happened whose update could not be queued (broker down) so the next run —
    at the latest the nightly one — picks it up."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    computed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    dirty = models.BooleanField(default=False)
    dirty_since = models.DateTimeField(null=True, blank=True)
    # Incremented by every write to this campaign-year's snapshot, in the same transaction;
    # the sum over all rows versions cached API answers (reports.api).
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "year"], name="rollup_state_unique")]


# --- the official annual result (锁定 · 公示 · 申诉 · 发文命名 · 摘牌) -----------------------
#
# reports.results writes these. A result's unit and region rows are append-only: on
# PostgreSQL a trigger refuses UPDATE and DELETE (pgtrigger), and the models refuse them
# in Python too; an upheld appeal's new outcome is a new row (an amendment) beside the
# original. The fingerprint (OfficialResult.digest) is SHA-256 over the rows in the
# canonical form of docs/attainment.md.


class ResultStatus(models.TextChoices):
    NOTICE = "notice", _("公示中")
    PUBLISHED = "published", _("已发文命名")


class OfficialResult(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="results")
    # the campaign's slug as it was at the close: part of the fingerprint, which a later
    # rename of the campaign must not break
    campaign_slug = models.SlugField(_("活动标识（锁定时）"), max_length=60)
    year = models.PositiveIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=ResultStatus.choices, default=ResultStatus.NOTICE)
    closed_at = models.DateTimeField(_("锁定时间"))
    closed_by = models.ForeignKey("units.User", null=True, on_delete=models.SET_NULL, related_name="+")
    notice_days = models.PositiveIntegerField(_("公示天数"))
    # appeals are taken before this day; publication from it on
    notice_ends_on = models.DateField(_("公示截止（不含）"))
    # assessments still waiting at some level when it was closed, counted as not attained
    pending_counted = models.PositiveIntegerField(_("按未达标计的待审核自评"), default=0)
    units_total = models.PositiveIntegerField(_("单位数"), default=0)
    digest = models.CharField(_("数字指纹"), max_length=64)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    issued_on = models.DateField(_("发文日期"), null=True, blank=True)
    issuer = models.CharField(_("发文机关"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey("units.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_digest = models.CharField(_("发文时的数字指纹"), max_length=64, blank=True)
    pdf = models.FileField(_("发文 PDF"), upload_to="results/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("年度官方结果")
        verbose_name_plural = _("年度官方结果")
        constraints = [models.UniqueConstraint(fields=["campaign", "year"], name="one_result_per_campaign_year")]
        ordering = ["-year", "campaign_id"]

    def __str__(self):
        return f"{self.campaign.name} {self.year}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        # an INSERT or nothing: a new object given an existing pk would otherwise UPDATE it
        kwargs.pop("force_update", None)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only")


class ResultUnit(AppendOnly):
    """A unit's outcome in a closed year: attained or not, its final score, grade and the
    conditions it failed (codes of reports.attainment), as they were at the close — or,
    for an amendment, after the upheld appeal's review."""

    result = models.ForeignKey(OfficialResult, on_delete=models.PROTECT, related_name="unit_rows")
    seq = models.PositiveIntegerField()
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", db_index=False)
    unit_code = models.CharField(_("单位代码"), max_length=15)
    unit_name = models.CharField(_("单位名称"), max_length=200)
    township_code = models.CharField(_("所属乡镇代码"), max_length=12)
    category = models.CharField(_("类别"), max_length=25, choices=Category.choices)
    kind = models.CharField(_("类型"), max_length=20)
    attained = models.BooleanField(_("达标"))
    final_score = models.DecimalField(_("折算得分"), max_digits=6, decimal_places=2, null=True)
    grade = models.CharField(_("达标等级"), max_length=10, blank=True)
    # the failed conditions' codes, comma-separated ("approved,score"); empty when attained
    failed = models.CharField(_("未达标条件"), max_length=100, blank=True)
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("官方结果（单位）")
        verbose_name_plural = _("官方结果（单位）")
        constraints = [models.UniqueConstraint(fields=["result", "seq"], name="result_unit_seq")]
        indexes = [models.Index(fields=["result", "unit"], name="result_unit_idx")]
        ordering = ["result", "seq"]
        triggers = [pgtrigger.Protect(name="result_unit_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    @property
    def failed_conditions(self) -> list[str]:
        return [c for c in self.failed.split(",") if c]


class ResultRegion(AppendOnly):
    """A region's official figures in a closed year (from the roll-up, as at the close),
    and after an amendment that changed a unit's outcome, a new row for each region on
    its path."""

    result = models.ForeignKey(OfficialResult, on_delete=models.PROTECT, related_name="region_rows")
    seq = models.PositiveIntegerField()
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_index=False)
    region_name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    category = models.CharField(_("类别"), max_length=25, choices=Category.choices)
    total_units = models.PositiveIntegerField(_("单位数"))
    attained_units = models.PositiveIntegerField(_("达标数"))
    rate = models.DecimalField(_("达标率"), max_digits=7, decimal_places=6)
    target_rate = models.DecimalField(_("目标"), max_digits=5, decimal_places=4, null=True)
    met = models.BooleanField(_("完成目标"), null=True)
    gap_units = models.PositiveIntegerField(_("差距（单位数）"), default=0)
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("官方结果（区划）")
        verbose_name_plural = _("官方结果（区划）")
        constraints = [models.UniqueConstraint(fields=["result", "seq"], name="result_region_seq")]
        indexes = [models.Index(fields=["result", "region", "category"], name="result_region_idx")]
        ordering = ["result", "seq"]
        triggers = [pgtrigger.Protect(name="result_region_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")


def appeal_path(instance, filename):
    from inspections.models import generated_name

    return generated_name("appeals", instance.evidence_type)


class Appeal(models.Model):
    """A township's appeal (申诉) against its unit's outcome, during the notice; decided by
    the campaign's level. Upheld: the unit's assessment is reviewed again and its new
    outcome enters the result as an amendment."""

    result = models.ForeignKey(OfficialResult, on_delete=models.PROTECT, related_name="appeals")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("申诉理由"))
    evidence = models.FileField(_("佐证材料"), upload_to=appeal_path, blank=True, max_length=200)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    filed_by = models.ForeignKey("units.User", null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(_("申诉时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    decided_by = models.ForeignKey("units.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("处理意见"), blank=True)
    amended_at = models.DateTimeField(_("复核结果计入时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        constraints = [models.UniqueConstraint(fields=["result", "unit"], name="one_appeal_per_unit")]
        ordering = ["-filed_at"]


class Revocation(models.Model):
    """摘牌: after publication, a zero-kind incident or an overturning spot check takes a
    named unit's title away from that day; the published result itself stays. Lifted if
    the incident is dismissed (the record stays)."""

    result = models.ForeignKey(OfficialResult, on_delete=models.PROTECT, related_name="revocations")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("摘牌原因"))
    on = models.DateField(_("摘牌日期"))
    source = models.CharField(_("来源"), max_length=20)  # incident / spot_check
    source_id = models.PositiveIntegerField(null=True)
    by = models.ForeignKey("units.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_on = models.DateField(_("撤销摘牌日期"), null=True, blank=True)
    lifted_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("摘牌记录")
        verbose_name_plural = _("摘牌记录")
        ordering = ["-on", "-id"]


class AppraisalScheme(models.Model):
    """考核: the weights of a campaign's appraisal of regions and departments, as data
    (reports.appraisal states the formula; docs/appraisal.md explains it). Changed only
    through reports.appraisal.scheme_set, which checks that each set sums to 100."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="appraisal_scheme")
    w_attainment = models.PositiveSmallIntegerField(_("达标率对目标（权重）"), default=40)
    w_rise = models.PositiveSmallIntegerField(_("较上年提升（权重）"), default=15)
    w_tasks = models.PositiveSmallIntegerField(_("整改按期（权重）"), default=15)
    w_deviation = models.PositiveSmallIntegerField(_("抽查偏差（权重）"), default=15)
    w_actions = models.PositiveSmallIntegerField(_("专项行动进展（权重）"), default=15)
    # the mean over-scoring (self − inspector, points) at which the deviation part is 0
    deviation_zero = models.DecimalField(_("偏差归零分值"), max_digits=5, decimal_places=1, default=10)
    dept_w_tasks = models.PositiveSmallIntegerField(_("部门：整改按期（权重）"), default=60)
    dept_w_actions = models.PositiveSmallIntegerField(_("部门：专项行动（权重）"), default=40)
    commend_regions = models.PositiveSmallIntegerField(_("表彰区域数"), default=3)
    commend_units = models.PositiveSmallIntegerField(_("表彰单位数"), default=10)
    updated_by = models.ForeignKey(
        "units.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("修改人")
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")

    def __str__(self):
        return f"{self.campaign.name} · {self._meta.verbose_name}"
