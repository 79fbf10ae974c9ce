"""Standards, campaigns and targets are data of a campaign, never code."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from units.history import AS_OF
from units.models import LEVEL_ORDER, Category, Level, Region, Unit


class IncidentKind(models.TextChoices):
    """The names of the incident kinds (translated); how they nest is data
    (IncidentKindNode, standards/data/incident-kinds.json): a campaign's zero-kind covers
    its node's whole subtree."""

    CASE = "case", _("案件")
    CRIMINAL_CASE = "criminal_case", _("刑事案件")
    HOMICIDE = "homicide", _("命案")
    PUBLIC_ORDER_CASE = "public_order_case", _("治安案件")
    ACCIDENT = "accident", _("事故")
    PUBLIC_SAFETY = "public_safety", _("公共安全事故")
    PRODUCTION_SAFETY = "production_safety", _("生产安全事故")
    PETITION = "petition", _("上访")
    LEAPFROG_PETITION = "leapfrog_petition", _("越级访")
    COLLECTIVE_PETITION = "collective_petition", _("集体访")
    IRREGULAR_PETITION = "irregular_petition", _("进京赴省到市非访")
    DISPUTE = "dispute", _("矛盾纠纷")
    MASS_INCIDENT = "mass_incident", _("群体性事件")


class ConditionKind(models.TextChoices):
    """Zeros that are conditions, not incidents: checked per unit and year."""

    GRID_COVERAGE = "grid_coverage", _("零盲区（网格化服务管理全覆盖）")


class IncidentKindNode(models.Model):
    """The tree of incident kinds (案件 › 刑事案件 › 命案 …), as data: loaded from
    standards/data/incident-kinds.json by the migration and load_standards."""

    code = models.CharField(_("类型"), max_length=20, choices=IncidentKind.choices, primary_key=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级类型"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("事件类型")
        verbose_name_plural = _("事件类型")
        ordering = ["order"]

    def __str__(self):
        return self.get_code_display()


class Standard(models.Model):
    """A versioned scoring standard. Assessments pin the version they were scored on;
    a new version is a new row, so publishing never changes old assessments."""

    code = models.SlugField(_("标准代码"), max_length=60)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=200)
    note = models.TextField(_("说明"), blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("创建标准")
        verbose_name_plural = _("创建标准")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="standard_code_version")]
        ordering = ["code", "-version"]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def max_total(self, category: str) -> Decimal:
        return sum((i.max_score for i in self.items.all() if i.applies_to(category)), Decimal(0))


class Area(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(_("编号"), max_length=10)
    title = models.CharField(_("领域"), max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("标准领域")
        verbose_name_plural = _("标准领域")
        ordering = ["order", "code"]
        constraints = [models.UniqueConstraint(fields=["standard", "code"], name="area_code_unique")]

    def __str__(self):
        return f"{self.code} {self.title}"


# Which flag of an item says it applies to a category: two booleans rather than a list so
# the roll-up can filter in SQL on any backend. The one place that maps them.
CATEGORY_FIELD = {
    Category.VILLAGE_COMMUNITY.value: "for_village_community",
    Category.ENTERPRISE_INSTITUTION.value: "for_enterprise_institution",
}


class ItemQuerySet(models.QuerySet):
    def for_category(self, category: str) -> "ItemQuerySet":
        return self.filter(**{CATEGORY_FIELD[category]: True})


class Item(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="items")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("编号"), max_length=10)
    title = models.CharField(_("标准内容"), max_length=300)
    guidance = models.TextField(_("评分细则"), blank=True)
    max_score = models.DecimalField(
        _("分值"), max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    veto = models.BooleanField(_("一票否决"), default=False, help_text=_("只有满分才算达到"))
    for_village_community = models.BooleanField(_("适用于村（社区）"), default=True)
    for_enterprise_institution = models.BooleanField(_("适用于企事业单位"), default=True)
    evidence = models.TextField(_("佐证材料"), blank=True)
    indicator_name = models.CharField(_("量化指标"), max_length=60, blank=True)
    indicator_comparison = models.CharField(
        _("比较"), max_length=2, blank=True, default="", choices=[(">=", "≥"), ("<=", "≤"), ("=", "=")]
    )
    indicator_threshold = models.DecimalField(_("阈值"), max_digits=6, decimal_places=2, null=True, blank=True)
    indicator_unit = models.CharField(_("单位"), max_length=10, blank=True)
    # a measured item: the officer enters the figures, the score is computed (scoring.measure)
    indicator_rule = models.CharField(
        _("计分规则"),
        max_length=12,
        blank=True,
        choices=[
            ("proportional", _("达到阈值得满分，否则按比例计分")),
            ("full_or_zero", _("达到阈值得满分，否则不得分")),
        ],
    )
    indicator_numerator = models.CharField(_("分子"), max_length=30, blank=True)
    indicator_denominator = models.CharField(_("分母"), max_length=30, blank=True)
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("标准条目")
        verbose_name_plural = _("标准条目")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["standard", "code"], name="item_code_unique")]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def categories(self) -> list[str]:
        return [category for category, flag in CATEGORY_FIELD.items() if getattr(self, flag)]

    def applies_to(self, category: str) -> bool:
        return category in self.categories

    @property
    def measured(self) -> bool:
        return bool(self.indicator_rule and self.indicator_threshold is not None)

    @property
    def indicator_text(self) -> str:
        if not self.indicator_name:
            return ""
        cmp = dict(self._meta.get_field("indicator_comparison").choices).get(self.indicator_comparison, "")
        return f"{self.indicator_name} {cmp} {self.indicator_threshold:g}{self.indicator_unit}"


REVIEW_LEVELS = (Level.COUNTY, Level.CITY, Level.PROVINCE)  # from the bottom up


def default_review_levels() -> list[str]:
    return [Level.COUNTY.value]


class CampaignQuerySet(models.QuerySet):
    def covering(self, unit: Unit, year: int | None = None) -> list["Campaign"]:
        """The active campaigns whose scope region contains the unit (and, if given,
        whose years include `year`). A handful of campaigns: filtered in Python."""
        return [
            c
            for c in self.filter(active=True).select_related("scope")
            if c.covers_region(unit.township_id) and (year is None or c.covers_year(year))
        ]


class Campaign(models.Model):
    slug = models.SlugField(_("标识"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    scope = models.ForeignKey(Region, verbose_name=_("范围"), on_delete=models.PROTECT, related_name="campaigns")
    standard = models.ForeignKey(
        Standard, verbose_name=_("标准版本"), on_delete=models.PROTECT, related_name="campaigns"
    )
    start_year = models.PositiveIntegerField(_("起始年度"))
    end_year = models.PositiveIntegerField(_("结束年度"))
    zero_kinds = models.JSONField(_("“零”事项"), default=list, help_text=_("破坏本活动“零”目标的事件类型"))
    # zeros that are conditions (零盲区): a unit attains only with each confirmed for the year
    conditions = models.JSONField(_("“零”条件"), default=list, blank=True)
    # the local implementation of a wider campaign (Jinzhong's of Shanxi's): a unit's
    # approved assessment here counts there through the item mapping (inspections.carry)
    implements = models.ForeignKey(
        "self",
        verbose_name=_("实施的上级活动"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="implementations",
    )
    categories = models.JSONField(_("参与类别"), default=list)
    pass_mark = models.DecimalField(
        _("达标分数线"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("90"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # Seed 004: city-level attainment may ask a higher score than district-level.
    city_grade_pass_mark = models.DecimalField(
        _("市级达标分数线"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    active = models.BooleanField(_("进行中"), default=True)
    # 常态化长效化: the plan's years end, the campaign goes on — every year up to the
    # current one is a campaign year (targets carry on from the last year that set them)
    ongoing = models.BooleanField(
        _("常态化开展"), default=False, help_text=_("计划年度结束后逐年继续开展，直至当前年度")
    )
    # 层层审核: the levels that review a submitted assessment, in order, from the county up
    # to at most the campaign's own level; the last one's approval is the one that counts.
    review_levels = models.JSONField(
        _("审核层级"), default=default_review_levels, help_text=_("按顺序，如 county、city、province")
    )

    history = HistoricalRecords()

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("创建活动")
        verbose_name_plural = _("创建活动")
        ordering = ["slug"]

    def __str__(self):
        return self.name

    @property
    def last_year(self) -> int:
        """The campaign's last year: the plan's end, or — carried on 常态化 — this year."""
        if self.ongoing:
            return max(self.end_year, timezone.localdate().year)
        return self.end_year

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.last_year + 1))

    def covers_year(self, year: int) -> bool:
        return self.start_year <= year <= self.last_year

    def year_refusal(self, year) -> str:
        """Why `year` is not one of the campaign's, in the words every service uses."""
        return _("%(name)s 的年度为 %(a)s–%(b)s，不含 %(y)s 年。") % {
            "name": self.name,
            "a": self.start_year,
            "b": self.last_year,
            "y": year,
        }

    @property
    def phase(self) -> str:
        """进行中 (in the plan's years), 常态化 (carried on after them) or 已结束."""
        this_year = timezone.localdate().year
        if not self.active or self.last_year < this_year:
            return _("已结束")
        if this_year > self.end_year:
            return _("常态化")
        return _("进行中")

    def covers_region(self, code: str) -> bool:
        """The region (or a unit's township) lies inside the campaign's scope."""
        return code.startswith(self.scope.prefix)

    # The campaign's scope — who creates under it, the denominator of every rate — in
    # one place, twice: as a filter (unit_q) and for one unit in hand (covers). A test
    # checks that the two agree on every combination.
    def unit_q(self, *, prefix: str | None = None, unit_field: str = "", as_of: bool = False) -> Q:
        """The campaign's units: active, in a township inside the scope, of a covered
        category (optionally narrowed to a region prefix). `unit_field` prefixes the
        lookups for querysets of objects hanging off a unit; `as_of` filters on the
        state a unit had on a day (a queryset from units.history.units_as_of)."""
        f = f"{unit_field}__" if unit_field else ""
        if as_of:
            active, township, category = AS_OF["active"], AS_OF["township"], AS_OF["category"]
        else:
            active, township, category = "active", "township__code", "category"
        q = Q(
            **{
                f"{f}{active}": True,
                f"{f}{township}__startswith": self.scope.prefix,
                f"{f}{category}__in": self.categories,
            }
        )
        if prefix:
            q &= Q(**{f"{f}{township}__startswith": prefix})
        return q

    def covers(self, unit: Unit) -> bool:
        return unit.active and self.covers_region(unit.township_id) and unit.category in self.categories

    def clean(self):
        if self.start_year and self.end_year and self.end_year < self.start_year:
            raise ValidationError({"end_year": _("结束年度不能早于起始年度。")})
        nodes = set(IncidentKindNode.objects.values_list("code", flat=True))
        bad = [str(k) for k in self.zero_kinds or [] if k not in nodes]
        if bad:
            raise ValidationError(
                {"zero_kinds": _("“零”事项须是事件类型树中的类型，以下不是：%(kinds)s") % {"kinds": "、".join(bad)}}
            )
        badk = [str(k) for k in self.conditions or [] if k not in ConditionKind.values]
        if badk:
            raise ValidationError({"conditions": _("未知的“零”条件：%(c)s") % {"c": "、".join(badk)}})
        if not self.categories:
            raise ValidationError({"categories": _("至少选择一个参与类别。")})
        badc = [c for c in self.categories or [] if c not in Category.values]
        if badc:
            raise ValidationError({"categories": _("未知的单位类别：%(c)s") % {"c": "、".join(badc)}})
        self._clean_review_levels()
        seen, wider = {self.pk}, self.implements
        while wider is not None:
            if wider.pk in seen:
                raise ValidationError({"implements": _("活动之间的实施关系不能成环（%(c)s）。") % {"c": wider.name}})
            seen.add(wider.pk)
            wider = wider.implements

    def _clean_review_levels(self):
        levels = self.review_levels
        labels = "、".join(str(Level(lv).label) for lv in REVIEW_LEVELS)
        if not isinstance(levels, list) or not levels or any(lv not in REVIEW_LEVELS for lv in levels):
            raise ValidationError({"review_levels": _("审核层级应为以下层级中的一个或多个：%(l)s。") % {"l": labels}})
        order = [REVIEW_LEVELS.index(lv) for lv in levels]
        if order != sorted(set(order)):
            raise ValidationError({"review_levels": _("审核层级应自下而上排列，且不重复（如县、市、省）。")})
        if self.scope_id:
            top = LEVEL_ORDER.index(self.scope.level)
            above = [lv for lv in levels if LEVEL_ORDER.index(lv) < top]
            if above:
                raise ValidationError(
                    {
                        "review_levels": _("审核层级不能高于活动范围“%(s)s”：%(l)s。")
                        % {"s": self.scope.name, "l": "、".join(str(Level(lv).label) for lv in above)}
                    }
                )

    def seat(self, level: str) -> str:
        """The level of the chain that decides for an assessment waiting at `level`: the
        level itself, or — after the chain was edited and lost it — the nearest level above
        it, else the last."""
        if level in self.review_levels:
            return level
        rank = REVIEW_LEVELS.index(level) if level in REVIEW_LEVELS else -1
        above = [lv for lv in self.review_levels if REVIEW_LEVELS.index(lv) > rank]
        return above[0] if above else self.review_levels[-1]

    def next_review_level(self, level: str) -> str | None:
        """The level after `level` in the chain (None: `level` is the last, whose approval counts)."""
        i = self.review_levels.index(level)
        return self.review_levels[i + 1] if i + 1 < len(self.review_levels) else None


class Target(models.Model):
    """A target rate for (region, category, year). A region without its own target takes
    its nearest ancestor's (reports.targets resolves that)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT)
    category = models.CharField(_("类别"), max_length=25, choices=Category.choices)
    year = models.PositiveIntegerField(_("年度"))
    rate = models.DecimalField(
        _("目标达标率"), max_digits=5, decimal_places=4, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("目标")
        verbose_name_plural = _("目标")
        constraints = [models.UniqueConstraint(fields=["campaign", "region", "category", "year"], name="target_unique")]
        ordering = ["campaign", "year", "region", "category"]

    def __str__(self):
        return f"{self.campaign.slug} {self.year} {self.region_id} {self.category} {self.rate:.0%}"


class ItemMapping(models.Model):
    """How a local campaign's items carry over to the wider campaign's (one assessment,
    two campaigns): the wider item's score is its maximum × the weighted share of the local
    items' scores (over those that apply to the unit), or full marks where the wider item
    is a zero the incident ledger judges in both (零案件、零上访、零事故)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("地方活动"), on_delete=models.CASCADE, related_name="mappings"
    )
    wider_item = models.ForeignKey(Item, verbose_name=_("上级标准条目"), on_delete=models.PROTECT, related_name="+")
    local_item = models.ForeignKey(
        Item, verbose_name=_("本地标准条目"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    weight = models.DecimalField(_("权重"), max_digits=4, decimal_places=3, default=1)
    full = models.BooleanField(_("按满分计"), default=False)

    class Meta:
        verbose_name = _("条目对应关系")
        verbose_name_plural = _("条目对应关系")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "wider_item", "local_item"], name="item_mapping_unique")
        ]

    def clean(self):
        errors = {}
        wider = self.campaign.implements if self.campaign_id else None
        if wider is None:
            raise ValidationError(_("活动“%(c)s”未声明实施哪个上级活动。") % {"c": self.campaign.name})
        if self.wider_item_id and self.wider_item.standard_id != wider.standard_id:
            errors["wider_item"] = _("条目 %(i)s 属于“%(s)s”，不是上级活动“%(c)s”的标准。") % {
                "i": self.wider_item.code,
                "s": self.wider_item.standard.name,
                "c": wider.name,
            }
        if self.local_item_id and self.local_item.standard_id != self.campaign.standard_id:
            errors["local_item"] = _("条目 %(i)s 不属于本地活动的标准“%(s)s”。") % {
                "i": self.local_item.code,
                "s": self.campaign.standard.name,
            }
        if not self.full and not self.local_item_id:
            errors["local_item"] = _("请指定本地条目，或标明按满分计。")
        if not (0 < self.weight <= 1):
            errors["weight"] = _("权重应大于 0、不超过 1。")
        if errors:
            raise ValidationError(errors)


class RegionIndicator(models.Model):
    """A measurable indicator of a region, not of a unit (县级以上文明村镇创建率 ≥ 60 %):
    entered for the region by its staff (inspections.region_indicators), never recast as
    a unit item."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="region_indicators"
    )
    code = models.SlugField(_("标识"), max_length=40)
    name = models.CharField(_("指标"), max_length=60)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, default=Level.COUNTY)
    unit = models.CharField(_("单位"), max_length=10, blank=True, default="%")
    comparison = models.CharField(_("比较"), max_length=2, default=">=", choices=[(">=", "≥"), ("<=", "≤")])
    threshold = models.DecimalField(_("阈值"), max_digits=6, decimal_places=2)
    numerator = models.CharField(_("分子"), max_length=30)
    denominator = models.CharField(_("分母"), max_length=30)

    class Meta:
        verbose_name = _("区域指标")
        verbose_name_plural = _("区域指标")
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="region_indicator_code_unique")]

    def __str__(self):
        return self.name

    @property
    def text(self) -> str:
        return f"{self.name} {self.get_comparison_display()} {self.threshold:g}{self.unit}"
