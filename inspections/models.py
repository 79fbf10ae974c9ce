"""Self-assessments and their review workflow, and incidents that break a zero."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from standards.models import REVIEW_LEVELS, Campaign, ConditionKind, IncidentKind, Item, Standard
from units.models import Department, Unit

from .evidence import extension_for

REVIEW_LEVEL_CHOICES = [(lv.value, lv.label) for lv in REVIEW_LEVELS]


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核通过")
    OVERTURNED = "overturned", _("抽查否定")


class Assessment(models.Model):
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="assessments")
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("创建活动"), on_delete=models.PROTECT, related_name="assessments"
    )
    year = models.PositiveIntegerField(_("年度"))
    # Pinned when the assessment is created; a newer standard version never changes it.
    standard = models.ForeignKey(
        Standard, verbose_name=_("标准版本"), on_delete=models.PROTECT, related_name="assessments"
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Optimistic lock: a save must name the version it was edited from.
    lock_version = models.PositiveIntegerField(default=0)
    # Derived from the item scores by inspections.scoring and stored whenever they change,
    # so the roll-up can read them set-wise; the property test checks them against a
    # brute-force recomputation from the item scores.
    total_score = models.DecimalField(_("得分"), max_digits=6, decimal_places=1, default=0)
    max_score = models.DecimalField(_("适用满分"), max_digits=6, decimal_places=1, default=0)
    final_score = models.DecimalField(_("折算得分"), max_digits=6, decimal_places=2, default=0)
    veto_failed = models.BooleanField(_("否决项未达标"), default=False)
    return_reason = models.TextField(_("退回原因"), blank=True)
    # carried over from the local implementation's assessment (inspections.carry): shown
    # as such, never edited here
    derived_from = models.ForeignKey(
        "self", verbose_name=_("转换自"), null=True, blank=True, on_delete=models.CASCADE, related_name="carried"
    )
    overturn_reason = models.TextField(_("抽查否定原因"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    # 层层审核: while submitted, the level whose decision it awaits (Campaign.review_levels),
    # and since when — the queues show the oldest waiting first
    review_level = models.CharField(_("待审核层级"), max_length=10, blank=True, choices=REVIEW_LEVEL_CHOICES)
    waiting_since = models.DateTimeField(_("待审核起始"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审核人"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("填报人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("自评")
        verbose_name_plural = _("自评")
        constraints = [
            models.UniqueConstraint(fields=["unit", "campaign", "year"], name="one_assessment_per_unit_year")
        ]
        indexes = [
            models.Index(fields=["campaign", "year", "status"], name="assessment_rollup_idx"),
            models.Index(fields=["status", "review_level", "waiting_since"], name="assessment_queue_idx"),
        ]
        ordering = ["-year", "unit__code"]

    def __str__(self):
        return f"{self.unit.name} {self.year} {self.get_status_display()}"

    def chain(self) -> list[dict]:
        """The review chain as the pages show it: each level with whether it has passed
        the assessment on, is deciding now, or is still to come."""
        levels = self.campaign.review_levels
        if self.status == Status.APPROVED:
            done = len(levels)
        elif self.status == Status.SUBMITTED and self.review_level:
            done = levels.index(self.deciding_level)
        else:
            done = -1
        return [
            {
                "level": lv,
                "label": dict(REVIEW_LEVEL_CHOICES)[lv],
                "state": "done" if i < done else ("waiting" if i == done else "todo"),
            }
            for i, lv in enumerate(levels)
        ]

    @property
    def deciding_level(self) -> str:
        """The level that decides now: the one it waits for, or once approved the last
        level of the chain (which may still return it)."""
        return self.campaign.seat(self.review_level) if self.review_level else self.campaign.review_levels[-1]


class ItemScore(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    self_score = models.DecimalField(_("自评分"), max_digits=5, decimal_places=1, null=True, blank=True)
    # a measured item's figures (知晓 28 / 抽样 30): the self-score is computed from them
    numerator = models.DecimalField(_("分子"), max_digits=12, decimal_places=2, null=True, blank=True)
    denominator = models.DecimalField(_("分母"), max_digits=12, decimal_places=2, null=True, blank=True)
    reviewer_score = models.DecimalField(_("审核分"), max_digits=5, decimal_places=1, null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    reviewer_note = models.TextField(_("审核意见"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("条目得分")
        verbose_name_plural = _("条目得分")
        constraints = [models.UniqueConstraint(fields=["assessment", "item"], name="one_score_per_item")]
        ordering = ["item__order", "item_id"]

    def __str__(self):
        return f"{self.item.code}: {self.effective_score}"

    @property
    def effective_score(self):
        """The score that counts: the reviewer's where they adjusted it, else the self-score."""
        return self.reviewer_score if self.reviewer_score is not None else self.self_score


class LevelScore(models.Model):
    """A review level's adjustment of one item (层层审核): the score it gave and why, beside
    the self-score and the other levels'. A level that adjusts nothing passes the score it
    received. ItemScore.reviewer_score is the adjustment of the highest level that made
    one (what counts), kept by inspections.services."""

    score = models.ForeignKey(ItemScore, on_delete=models.CASCADE, related_name="level_scores")
    level = models.CharField(_("审核层级"), max_length=10, choices=REVIEW_LEVEL_CHOICES)
    value = models.DecimalField(_("审核分"), max_digits=5, decimal_places=1)
    reason = models.TextField(_("调整理由"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("逐级审核分")
        verbose_name_plural = _("逐级审核分")
        constraints = [models.UniqueConstraint(fields=["score", "level"], name="one_level_score_per_item")]

    def __str__(self):
        return f"{self.score.item.code} {self.get_level_display()} {self.value}"


class Decision(models.TextChoices):
    PASSED = "passed", _("审核通过，报上级")
    APPROVED = "approved", _("审核通过")
    RETURNED = "returned", _("退回")
    REOPENED = "reopened", _("申诉复核")


class ReviewDecision(models.Model):
    """One level's decision on a submission, with the final score as that level left it:
    the review chain's record (append-only), read by the history page and the deviation
    report (each level against the inspector)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="decisions")
    level = models.CharField(_("审核层级"), max_length=10, blank=True)
    decision = models.CharField(_("结论"), max_length=10, choices=Decision.choices)
    final_score = models.DecimalField(_("折算得分"), max_digits=6, decimal_places=2)
    veto_failed = models.BooleanField(default=False)
    adjusted = models.PositiveIntegerField(_("调整条目数"), default=0)
    reason = models.TextField(_("意见"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["at", "id"]


def generated_name(folder: str, content_type: str) -> str:
    """A stored upload's name: generated, under folder/YYYY/MM/, with the extension of the
    type detected from its content (evidence.check); the original name is kept in the row
    and never used on disk, not even its extension."""
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension_for(content_type)}"


def evidence_path(instance, filename):
    return generated_name("evidence", instance.content_type)


class UploadedFile(models.Model):
    """A file someone uploaded as proof, stored under a generated name (the original name
    is kept for display and download); each subclass sets `file`'s folder."""

    file = models.FileField(_("文件"), max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name


class Evidence(UploadedFile):
    score = models.ForeignKey(ItemScore, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=200)

    class Meta(UploadedFile.Meta):
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")


class IncidentStatus(models.TextChoices):
    RECORDED = "recorded", _("已登记")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("不属实（已排除）")


class IncidentSource(models.TextChoices):
    """Where the incident became known: the township's own report, or the department where
    petitions, cases and accidents are known first, or a spot check."""

    TOWNSHIP = "township", _("乡镇/街道报告")
    PETITION = "petition", _("信访部门")
    PUBLIC_SECURITY = "public_security", _("公安机关")
    EMERGENCY = "emergency", _("应急管理部门")
    SPOT_CHECK = "spot_check", _("督导抽查")


class Severity(models.TextChoices):
    """The national grading of accidents and cases (一般、较大、重大、特别重大); 重大 and
    above veto a region's appraisal (reports.appraisal)."""

    GENERAL = "general", _("一般")
    LARGER = "larger", _("较大")
    MAJOR = "major", _("重大")
    ESPECIALLY_MAJOR = "especially_major", _("特别重大")


MAJOR_SEVERITIES = (Severity.MAJOR, Severity.ESPECIALLY_MAJOR)


class DisputeResolution(models.TextChoices):
    """How a dispute ended: 零纠纷 means disputes resolved inside the jurisdiction (“矛盾纠纷
    在辖区内闭环解决”); one escalated, or not resolved by the year's end, breaks it."""

    RESOLVED = "resolved", _("已在辖区内化解")
    ESCALATED = "escalated", _("矛盾上交（升级）")
    UNRESOLVED = "unresolved", _("年底仍未化解")


class Incident(models.Model):
    """A petition, accident or case against a unit. Unless dismissed, it breaks the zero
    of its kind for its calendar year in every campaign that names that kind."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(_("类型"), max_length=20, choices=IncidentKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    description = models.TextField(_("情况描述"))
    status = models.CharField(_("状态"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.RECORDED)
    reason = models.TextField(_("确认/排除理由"), blank=True)
    severity = models.CharField(_("等级"), max_length=20, choices=Severity.choices, default=Severity.GENERAL)
    # a petition only a higher level can decide (“除必须由上级部门解决的”), so marked by the
    # county with its reason: it does not break 零上访
    higher_level = models.BooleanField(_("须由上级部门解决"), default=False)
    higher_level_reason = models.TextField(_("须由上级解决的理由"), blank=True)
    # a dispute's outcome (blank while open)
    resolution = models.CharField(_("化解情况"), max_length=12, choices=DisputeResolution.choices, blank=True)
    resolved_on = models.DateField(_("化解日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=IncidentSource.choices, default=IncidentSource.TOWNSHIP)
    # the department that recorded it (信访, 公安, 应急), if one did
    department = models.ForeignKey(
        Department,
        verbose_name=_("登记部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("确认人"),
    )
    judged_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["unit", "occurred_on"], name="incident_unit_date_idx")]

    def __str__(self):
        return f"{self.unit.name} {self.get_kind_display()} {self.occurred_on}"


class ConditionStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已确认")
    REVOKED = "revoked", _("已被抽查撤销")


class UnitCondition(models.Model):
    """A unit's zero that is a condition, for a year: 零盲区 — its grid coverage confirmed by
    the township with evidence; revocable by a spot check (with its reason)."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="conditions")
    kind = models.CharField(_("条件"), max_length=20, choices=ConditionKind.choices)
    year = models.PositiveIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=ConditionStatus.choices)
    note = models.TextField(_("说明"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("确认人")
    )
    confirmed_at = models.DateTimeField(_("确认时间"))
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销理由"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("“零”条件")
        verbose_name_plural = _("“零”条件")
        constraints = [models.UniqueConstraint(fields=["unit", "kind", "year"], name="one_condition_per_unit_year")]

    def __str__(self):
        return f"{self.unit.name} {self.get_kind_display()} {self.year}"


def condition_evidence_path(instance, filename):
    return generated_name("conditions", instance.content_type)


class ConditionEvidence(UploadedFile):
    condition = models.ForeignKey(UnitCondition, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to=condition_evidence_path, max_length=200)

    class Meta(UploadedFile.Meta):
        verbose_name = _("条件佐证")
        verbose_name_plural = _("条件佐证")


class RegionIndicatorValue(models.Model):
    """A region's figures for a region-level indicator in a year: the latest counts."""

    indicator = models.ForeignKey(
        "standards.RegionIndicator", verbose_name=_("区域指标"), on_delete=models.PROTECT, related_name="values"
    )
    region = models.ForeignKey("units.Region", verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField(_("年度"))
    numerator = models.DecimalField(_("分子"), max_digits=12, decimal_places=2)
    denominator = models.DecimalField(_("分母"), max_digits=12, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("填报人")
    )
    recorded_at = models.DateTimeField(_("填报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("区域指标数值")
        verbose_name_plural = _("区域指标数值")
        ordering = ["-recorded_at", "-id"]

    def __str__(self):
        return f"{self.region_id} {self.indicator.name} {self.year}"

    @property
    def value(self):
        return self.numerator / self.denominator * (100 if self.indicator.unit == "%" else 1)

    @property
    def met(self) -> bool:
        v = self.value
        return v <= self.indicator.threshold if self.indicator.comparison == "<=" else v >= self.indicator.threshold
