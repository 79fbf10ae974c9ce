"""Supervision (督导): inspections and spot checks of approved units, random samples
drawn against falsification, rectification tasks (挂图作战、对账销号) and the in-portal
notifications the daily overdue job sends."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inspections.models import Assessment, UploadedFile, generated_name
from standards.models import Campaign, Item
from units.models import Department, DepartmentKind, Region, Unit


class InspectionKind(models.TextChoices):
    SCHEDULED = "scheduled", _("计划检查")
    AD_HOC = "ad_hoc", _("临时抽查")
    SAMPLE = "sample", _("随机抽样检查")


class InspectionMode(models.TextChoices):
    ANNOUNCED = "announced", _("明查")
    UNANNOUNCED = "unannounced", _("暗访")


class Inspection(models.Model):
    """One inspection trip (or a sample draw) of units in a region, by county staff or above."""

    region = models.ForeignKey(Region, verbose_name=_("检查区域"), on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, verbose_name=_("创建活动"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField(_("年度"))
    kind = models.CharField(_("检查类型"), max_length=12, choices=InspectionKind.choices)
    mode = models.CharField(_("方式"), max_length=12, choices=InspectionMode.choices)
    planned_on = models.DateField(_("检查日期"))
    inspectors = models.CharField(_("检查人员"), max_length=200)
    findings = models.TextField(_("检查发现"), blank=True)
    # A random sample: the pool (approved units of the region, by unit code), how many
    # were drawn and with which seed, so anyone can redraw and compare.
    sample_seed = models.BigIntegerField(_("抽样种子"), null=True, blank=True)
    sample_percent = models.DecimalField(_("抽样比例(%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    sample_size = models.PositiveIntegerField(_("抽样数量"), null=True, blank=True)
    pool_size = models.PositiveIntegerField(_("抽样总体"), null=True, blank=True)
    pool_digest = models.CharField(_("总体指纹"), max_length=64, blank=True)
    # the pool as it was at the draw (unit codes, one per line, in draw order): a later
    # overturn or approval changes today's pool, never the one the sample came from
    pool_codes = models.TextField(_("抽样总体（单位代码）"), blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("检查")
        verbose_name_plural = _("检查")
        ordering = ["-planned_on", "-id"]

    def __str__(self):
        return f"{self.region.name} {self.get_kind_display()} {self.planned_on}"


class CheckStatus(models.TextChoices):
    PENDING = "pending", _("待检查")
    CONFIRMED = "confirmed", _("抽查确认")
    OVERTURNED = "overturned", _("抽查否定")


class SpotCheck(models.Model):
    """One unit in an inspection: the inspector scores the same items, then confirms the
    approved assessment or overturns it. The three final scores are kept as they were
    when the check was recorded, so the deviation report does not move afterwards."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="checks")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(
        Assessment, verbose_name=_("自评"), null=True, blank=True, on_delete=models.PROTECT, related_name="spot_checks"
    )
    status = models.CharField(_("结论"), max_length=12, choices=CheckStatus.choices, default=CheckStatus.PENDING)
    reason = models.TextField(_("结论说明"), blank=True)
    self_final = models.DecimalField(_("自评折算分"), max_digits=6, decimal_places=2, null=True, blank=True)
    reviewer_final = models.DecimalField(_("审核折算分"), max_digits=6, decimal_places=2, null=True, blank=True)
    inspector_final = models.DecimalField(_("检查折算分"), max_digits=6, decimal_places=2, null=True, blank=True)
    # each review level's final score as it passed the assessment on (层层审核), so the
    # deviation report covers every level (null: the campaign has no such level)
    county_final = models.DecimalField(_("县级审核折算分"), max_digits=6, decimal_places=2, null=True, blank=True)
    city_final = models.DecimalField(_("市级审核折算分"), max_digits=6, decimal_places=2, null=True, blank=True)
    province_final = models.DecimalField(_("省级审核折算分"), max_digits=6, decimal_places=2, null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("抽查单位")
        verbose_name_plural = _("抽查单位")
        constraints = [models.UniqueConstraint(fields=["inspection", "unit"], name="one_check_per_unit")]
        ordering = ["unit__code"]

    def __str__(self):
        return f"{self.unit.name} {self.get_status_display()}"

    @property
    def self_deviation(self):
        if self.self_final is None or self.inspector_final is None:
            return None
        return self.self_final - self.inspector_final

    def level_deviations(self) -> dict[str, object]:
        """Each review level's final score − the inspector's."""
        out = {}
        for level in ("county", "city", "province"):
            value = getattr(self, f"{level}_final")
            out[level] = None if value is None or self.inspector_final is None else value - self.inspector_final
        return out

    @property
    def reviewer_deviation(self):
        if self.reviewer_final is None or self.inspector_final is None:
            return None
        return self.reviewer_final - self.inspector_final


class InspectorScore(models.Model):
    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("检查分"), max_digits=5, decimal_places=1)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["spot_check", "item"], name="one_inspector_score_per_item")]
        ordering = ["item__order"]


class TaskSource(models.TextChoices):
    INSPECTION = "inspection", _("检查发现")
    HAZARD = "hazard", _("隐患排查")
    OTHER = "other", _("其他")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    IN_PROGRESS = "in_progress", _("整改中")
    REPORTED = "reported", _("已报告完成")
    CLOSED = "closed", _("已销号")


# "Overdue", defined once: marked overdue and not closed. The daily job marks a task
# (with the day) once its deadline has passed; the mark stands until the task is closed,
# so a task reopened after its deadline is overdue again at once. As filters for counts
# (Count(filter=OVERDUE_Q)), as queryset methods, and for one task (is_overdue).
OPEN_Q = ~models.Q(status=TaskStatus.CLOSED)
CLOSED_Q = models.Q(status=TaskStatus.CLOSED)
OVERDUE_Q = OPEN_Q & models.Q(overdue=True)


class RectificationQuerySet(models.QuerySet):
    def not_closed(self):
        return self.filter(OPEN_Q)

    def closed(self):
        return self.filter(CLOSED_Q)

    def overdue(self):
        return self.filter(OVERDUE_Q)

    def not_overdue(self):
        return self.exclude(OVERDUE_Q)

    def due_for_marking(self, today):
        """Past their deadline on `today`, not closed, not yet marked."""
        return self.filter(OPEN_Q, overdue=False, deadline__lt=today)


class Rectification(models.Model):
    """A rectification task: what must be fixed, by whom, by when. Closed (销号) only by
    the level that opened it, after the responsible unit reported it done with evidence."""

    title = models.CharField(_("整改事项"), max_length=200)
    description = models.TextField(_("问题描述"), blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=TaskSource.choices, default=TaskSource.INSPECTION)
    spot_check = models.ForeignKey(
        SpotCheck, verbose_name=_("来源检查"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    # One unit's problem, or a township's (服务管理盲区, 突出治安问题): the township is
    # always set — the unit's own for a unit's task — and places the task in the tree.
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    township = models.ForeignKey(Region, verbose_name=_("乡镇/街道"), on_delete=models.PROTECT, related_name="+")
    leader = models.CharField(_("包案领导"), max_length=50)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT, related_name="led_tasks"
    )
    cooperating_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="cooperating_tasks"
    )
    action = models.ForeignKey(
        "SpecialAction",
        verbose_name=_("所属专项行动"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    deadline = models.DateField(_("整改期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True
    )
    overdue = models.BooleanField(_("已逾期"), default=False)
    overdue_since = models.DateField(_("逾期日期"), null=True, blank=True)
    report_note = models.TextField(_("整改情况"), blank=True)
    # 三不放过: the cause analysed and the lasting measure taken, required to close
    root_cause = models.TextField(_("剖析原因"), blank=True)
    lasting_measure = models.TextField(_("长效机制"), blank=True)
    reopen_reason = models.TextField(_("退回重整原因"), blank=True)
    # The level that opened the task is the one that verifies and closes it.
    opened_region = models.ForeignKey(Region, verbose_name=_("交办单位"), on_delete=models.PROTECT, related_name="+")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("交办人")
    )
    opened_at = models.DateTimeField(_("交办时间"), auto_now_add=True)
    reported_at = models.DateTimeField(_("报告完成时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("销号人"),
    )
    lock_version = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["status", "overdue"], name="rectification_state_idx")]

    def __str__(self):
        return f"{self.responsible_name}：{self.title}"

    @property
    def responsible_name(self) -> str:
        """The unit responsible, or the township for a township's task."""
        return self.unit.name if self.unit_id else self.township.name

    @property
    def is_overdue(self) -> bool:
        """The instance side of RectificationQuerySet.overdue()."""
        return self.overdue and self.status != TaskStatus.CLOSED


class Milestone(models.Model):
    """时序进度: a dated step of a task, due on or before the task's deadline."""

    task = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点内容"), max_length=200)
    due_on = models.DateField(_("节点日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("进度节点")
        verbose_name_plural = _("进度节点")
        ordering = ["due_on", "id"]

    def __str__(self):
        return f"{self.due_on} {self.title}"


def task_evidence_path(instance, filename):
    return generated_name("rectification", instance.content_type)


class TaskEvidence(UploadedFile):
    task = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to=task_evidence_path, max_length=200)

    class Meta(UploadedFile.Meta):
        verbose_name = _("整改佐证")
        verbose_name_plural = _("整改佐证")


# --- special actions (专项行动) -----------------------------------------------------


class SpecialAction(models.Model):
    """One of a campaign's special actions (Jinzhong's 八项行动): who leads it, who
    cooperates, its period and its measurable targets. Data, not code."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="special_actions"
    )
    code = models.SlugField(_("标识"), max_length=40)
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    name = models.CharField(_("名称"), max_length=100)
    lead_kind = models.CharField(_("牵头部门类型"), max_length=20, choices=DepartmentKind.choices)
    cooperating_kinds = models.JSONField(_("配合部门类型"), default=list, blank=True)
    # as the plan states it (牵头单位/配合单位 may name bodies that are not departments)
    lead_text = models.CharField(_("牵头单位（原文）"), max_length=200, blank=True)
    cooperating_text = models.CharField(_("配合单位（原文）"), max_length=300, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("专项行动")
        verbose_name_plural = _("专项行动")
        ordering = ["campaign_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="special_action_code_unique")]

    def __str__(self):
        return self.name

    def involves(self, kind: str) -> bool:
        return kind == self.lead_kind or kind in (self.cooperating_kinds or [])


class Measure(models.TextChoices):
    COUNT = "count", _("累计数量")
    RATE = "rate", _("比率")


class ActionTarget(models.Model):
    """A measurable target of a special action, per county: a count to reach (矛盾纠纷排查
    n 次) or a rate (出租房屋登记率 100%: numerator over denominator)."""

    action = models.ForeignKey(SpecialAction, on_delete=models.CASCADE, related_name="targets")
    code = models.SlugField(_("标识"), max_length=40)
    name = models.CharField(_("指标"), max_length=100)
    measure = models.CharField(_("计量方式"), max_length=10, choices=Measure.choices)
    unit_label = models.CharField(_("计量单位"), max_length=10, blank=True)
    # a count per county, or a rate between 0 and 1
    target = models.DecimalField(_("目标值"), max_digits=12, decimal_places=4)

    class Meta:
        verbose_name = _("行动指标")
        verbose_name_plural = _("行动指标")
        ordering = ["action_id", "id"]
        constraints = [models.UniqueConstraint(fields=["action", "code"], name="action_target_code_unique")]

    def __str__(self):
        return self.name


class ActionProgress(models.Model):
    """A department's figure for one target in one county, as of a date: the cumulative
    count so far, or the numerator and denominator of a rate. The latest figure of each
    county counts (supervision.actions)."""

    target = models.ForeignKey(ActionTarget, on_delete=models.PROTECT, related_name="progress")
    region = models.ForeignKey(Region, verbose_name=_("县（市、区）"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, verbose_name=_("填报部门"), on_delete=models.PROTECT, related_name="action_progress"
    )
    as_of = models.DateField(_("截至日期"))
    value = models.DecimalField(_("数值"), max_digits=12, decimal_places=2)
    denominator = models.DecimalField(_("基数"), max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("填报人")
    )
    recorded_at = models.DateTimeField(_("填报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("行动进展")
        verbose_name_plural = _("行动进展")
        ordering = ["-as_of", "-id"]
        indexes = [models.Index(fields=["target", "region", "as_of"], name="action_progress_latest_idx")]

    def __str__(self):
        return f"{self.region.name} {self.target.name} {self.as_of}"


def progress_evidence_path(instance, filename):
    return generated_name("actions", instance.content_type)


class ProgressEvidence(UploadedFile):
    progress = models.ForeignKey(ActionProgress, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to=progress_evidence_path, max_length=200)

    class Meta(UploadedFile.Meta):
        verbose_name = _("行动佐证")
        verbose_name_plural = _("行动佐证")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(_("内容"), max_length=300)
    link = models.CharField(max_length=200, blank=True)
    # Which event it is about, so the same event never notifies the same user twice.
    key = models.CharField(max_length=100)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_notification_per_event")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.message
