"""The tree everything hangs on: regions keyed by statistical division code, units, users."""

import datetime as dt
import hashlib
import json

import pgtrigger
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from simple_history.models import HistoricalRecords


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县/区")
    TOWNSHIP = "township", _("乡镇/街道")


# How many leading digits of the 12-digit code name a region at each level: a region's
# subtree is every code that starts with its prefix, so no recursive query is needed.
PREFIX_LENGTH = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9}
LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP]


def child_level(level: str) -> str | None:
    """The level just below (a city's counties …); None below a township."""
    idx = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[idx + 1] if idx + 1 < len(LEVEL_ORDER) else None


PARENT_LEVEL = {Level.CITY: Level.PROVINCE, Level.COUNTY: Level.CITY, Level.TOWNSHIP: Level.COUNTY}

code_validator = RegexValidator(r"^\d{12}$", _("区划代码必须是 12 位数字。"))


class Region(models.Model):
    code = models.CharField(_("区划代码"), max_length=12, primary_key=True, validators=[code_validator])
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_demo = models.BooleanField(_("演示数据"), default=False, help_text=_("生成的演示区划，非真实数据"))
    # When the region existed: null from = since before the portal's records; null to =
    # still. A region merged, split or recoded ends (valid_to) and its successors begin;
    # its rows stay, so a past year's tree is the regions valid at that year's end.
    valid_from = models.DateField(_("设立日期"), null=True, blank=True)
    valid_to = models.DateField(_("撤销日期"), null=True, blank=True)
    # The code prefixes of every region that became this one, however many changes back
    # (units.changes keeps it): its officers see those regions' past. Kept on the row so
    # that jurisdiction costs no query beyond the user's region.
    # the day its latest rename took effect (null: never renamed): a past day before it
    # shows the name of then (RegionName), and only then is that table read
    renamed_on = models.DateField(_("最近更名日期"), null=True, blank=True, editable=False)
    predecessor_prefixes = models.JSONField(_("前身区划代码前缀"), default=list, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("区划")
        verbose_name_plural = _("区划")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[self.level]]

    @staticmethod
    def prefix_of(code: str, level: str) -> str:
        return code[: PREFIX_LENGTH[level]]

    def ancestor_codes(self) -> list[str]:
        """Codes of this region and every ancestor, nearest first (derived from the code)."""
        idx = LEVEL_ORDER.index(self.level)
        return [self.code[: PREFIX_LENGTH[lvl]].ljust(12, "0") for lvl in reversed(LEVEL_ORDER[: idx + 1])]

    def valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def clean(self):
        if not self.code or not self.level:
            return
        n = PREFIX_LENGTH.get(self.level)
        if n and self.code[n:] != "0" * (12 - n):
            raise ValidationError(
                {
                    "code": _("%(level)s 级区划代码应在前 %(n)s 位之后全部为 0。")
                    % {"level": self.get_level_display(), "n": n}
                }
            )
        if self.level == Level.PROVINCE:
            if self.parent_id:
                raise ValidationError({"parent": _("省级区划没有上级。")})
            return
        if not self.parent_id:
            raise ValidationError({"parent": _("必须指定上级区划。")})
        parent = self.parent
        if parent.level != PARENT_LEVEL[self.level]:
            raise ValidationError(
                {
                    "parent": _("上级区划层级不正确：%(level)s 的上级应为 %(parent)s。")
                    % {"level": self.get_level_display(), "parent": Level(PARENT_LEVEL[self.level]).label}
                }
            )
        if not self.code.startswith(parent.prefix) or self.code[:n] == parent.prefix.ljust(n, "0"):
            raise ValidationError(
                {
                    "code": _("区划代码 %(code)s 必须以上级“%(parent)s”的前缀 %(prefix)s 开头，并在本级有自己的编号。")
                    % {"code": self.code, "parent": parent.name, "prefix": parent.prefix}
                }
            )


def valid_q(day, prefix: str = "") -> models.Q:
    """Rows (regions, names, unit states) in force on `day`, by their valid_from/valid_to."""
    f = f"{prefix}__" if prefix else ""
    return (models.Q(**{f"{f}valid_from__isnull": True}) | models.Q(**{f"{f}valid_from__lte": day})) & (
        models.Q(**{f"{f}valid_to__isnull": True}) | models.Q(**{f"{f}valid_to__gte": day})
    )


class RegionName(models.Model):
    """A name a region had before its current one (the current name is Region.name)."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="past_names")
    name = models.CharField(_("名称"), max_length=100)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField()

    class Meta:
        ordering = ["region", "valid_to"]


class ChangeKind(models.TextChoices):
    RENAME = "rename", _("更名")
    MERGE = "merge", _("撤并")
    SPLIT = "split", _("拆分")
    MOVE = "move", _("调整隶属")
    RECODE = "recode", _("变更代码")


class RegionChange(models.Model):
    """One recorded change of the tree (行政区划调整), as decided: its kind, the regions it
    ends or renames (sources), the regions it leads to (targets), the day it takes effect
    and its legal basis (the approving document). The operation itself is applied by
    units.changes.region_change, audited; this row is its record."""

    kind = models.CharField(_("类型"), max_length=10, choices=ChangeKind.choices)
    effective_on = models.DateField(_("生效日期"))
    basis = models.CharField(_("依据"), max_length=300, help_text=_("如批准文件的文号"))
    sources = models.ManyToManyField(Region, related_name="changes_as_source", verbose_name=_("原区划"))
    targets = models.ManyToManyField(Region, related_name="changes_as_target", verbose_name=_("新区划"))
    # names before and after, the units' assignment of a split, the officers moved …
    detail = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey("User", on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    # a change that follows from another: the children of a merged or recoded region,
    # recoded under its successor (listed with the operation they belong to)
    part_of = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="consequences", verbose_name=_("所属调整")
    )

    class Meta:
        verbose_name = _("区划调整")
        verbose_name_plural = _("区划调整")
        ordering = ["-effective_on", "-id"]

    def __str__(self):
        return f"{self.effective_on} {self.get_kind_display()}"


# a telephone number as officers write one: 0351-1234567, 13812345678, +86 351 1234567, with
# an extension (转 123): digits with spaces, hyphens, brackets, a leading +
phone_validator = RegexValidator(
    r"^\+?[0-9（）() -]{7,20}(?:\s*(?:转|-|ext\.?)\s*[0-9]{1,6})?$",
    _("请输入有效的电话号码（数字，可含区号、空格或连字符），如 0351-1234567 或 13812345678。"),
)


class UnitKind(models.TextChoices):
    VILLAGE = "village", _("村")
    COMMUNITY = "community", _("社区")
    SCHOOL = "school", _("学校")
    KINDERGARTEN = "kindergarten", _("幼儿园")
    HOSPITAL = "hospital", _("医院")
    SCENIC_AREA = "scenic_area", _("景区")
    MARKET = "market", _("商场市场")
    FACTORY_MINE = "factory_mine", _("厂矿")
    STATION = "station", _("车站")
    AIRPORT = "airport", _("机场")
    RELIGIOUS_SITE = "religious_site", _("宗教场所")
    CULTURAL_RELIC = "cultural_relic", _("文物古建筑")
    ENTERPRISE_OUTLET = "enterprise_outlet", _("大型企业生产经营网点")
    ENTERPRISE = "enterprise", _("其他企业")
    INSTITUTION = "institution", _("事业单位")


class Category(models.TextChoices):
    VILLAGE_COMMUNITY = "village_community", _("村（社区）")
    ENTERPRISE_INSTITUTION = "enterprise_institution", _("企事业单位")


# Which category each kind of unit is counted in: the one definition. category_of() reads
# it in Python and category_case() writes it as SQL for the roll-up's statement.
KIND_CATEGORY: dict[str, str] = {
    kind: (
        Category.VILLAGE_COMMUNITY
        if kind in (UnitKind.VILLAGE, UnitKind.COMMUNITY)
        else Category.ENTERPRISE_INSTITUTION
    ).value
    for kind in UnitKind.values
}


def category_of(kind: str) -> str:
    return Category(KIND_CATEGORY[kind])


def category_case(column: str) -> str:
    """KIND_CATEGORY as a SQL CASE over `column` (an identifier the caller quoted). The
    kinds and categories are our own identifiers ([a-z_]), so they need no escaping."""
    whens = " ".join(f"WHEN '{kind}' THEN '{cat}'" for kind, cat in KIND_CATEGORY.items())
    return f"CASE {column} {whens} END"


CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code_check_char(first17: str) -> str:
    """GB 32100-2015: the 18th character of a 统一社会信用代码, from the first 17."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != 18 or any(c not in CREDIT_CODE_CHARS for c in value):
        raise ValidationError(
            _("统一社会信用代码应为 18 位，由数字和大写字母组成（不含 I、O、Z、S、V）。"), code="credit_format"
        )
    want = credit_code_check_char(value[:17])
    if value[17] != want:
        raise ValidationError(
            _("统一社会信用代码 %(v)s 的校验码有误：第 18 位应为 %(c)s。") % {"v": value, "c": want},
            code="credit_check",
        )


unit_code_validator = RegexValidator(r"^\d{12,15}$", _("单位代码必须是 12 至 15 位数字。"))


class Unit(models.Model):
    """A creating body (创建主体). Archived, never deleted, so its history stays."""

    township = models.ForeignKey(
        Region,
        verbose_name=_("乡镇/街道"),
        on_delete=models.PROTECT,
        related_name="units",
        limit_choices_to={"level": Level.TOWNSHIP},
    )
    code = models.CharField(_("单位代码"), max_length=15, unique=True, validators=[unit_code_validator])
    name = models.CharField(_("单位名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices)
    # Stored (not just derived) so the roll-up can group by it in the database.
    category = models.CharField(_("类别"), max_length=25, choices=Category.choices, editable=False)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True, validators=[phone_validator])
    active = models.BooleanField(_("有效"), default=True, help_text=_("归档的单位不再参与创建统计"))
    is_demo = models.BooleanField(_("演示数据"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    # The name in the statistical list (村民委员会…), kept beside the readable one.
    official_name = models.CharField(_("规范名称"), max_length=200, blank=True)
    # 统一社会信用代码 of an enterprise or institution (GB 32100-2015).
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True, validators=[validate_credit_code]
    )
    # Since when the unit's township, kind and active state are as they are now (null: since
    # before the portal's records). The states before are UnitState rows; a past year is
    # counted with the state in force at its end.
    state_since = models.DateField(_("当前状态起始"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("创建单位")
        verbose_name_plural = _("创建单位")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["township", "category", "active"], name="unit_rollup_idx"),
            # units.history.history_reaches asks “any unit changed after day D?” on every
            # roll-up, incremental ones too: an index of the few units that ever changed,
            # not a scan of every unit of the province
            models.Index(
                fields=["state_since"], name="unit_state_since_idx", condition=models.Q(state_since__isnull=False)
            ),
        ]
        # Only the known kinds, whatever path a row takes in (the roll-up writes kinds into
        # its JSON split verbatim, reports.rollup.PG_SNAPSHOT_SQL).
        constraints = [models.CheckConstraint(condition=models.Q(kind__in=UnitKind.values), name="unit_kind_known")]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    def save(self, *args, **kwargs):
        self.category = category_of(self.kind)
        if kwargs.get("update_fields") is not None and "kind" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "category"}
        super().save(*args, **kwargs)

    def clean(self):
        if self.credit_code and self.kind in (UnitKind.VILLAGE, UnitKind.COMMUNITY):
            raise ValidationError({"credit_code": _("村（社区）没有统一社会信用代码；只有企事业单位填写。")})
        if self.code and self.kind:
            # 12 digits are the statistical codes of village and community committees; every
            # other unit has 15, so the two can never collide
            want = 12 if self.kind in (UnitKind.VILLAGE, UnitKind.COMMUNITY) else 15
            if len(self.code) != want:
                raise ValidationError(
                    {
                        "code": _(
                            "%(what)s的单位代码应为 %(n)s 位：村（社区）用统计用区划代码（12 位），其他单位为 15 位"
                            "（所属乡镇代码前 9 位 + 6 位编号）。"
                        )
                        % {"what": self.get_kind_display(), "n": want}
                    }
                )
        if self.township_id and self.code and self._state.adding:
            township = self.township
            if township.level != Level.TOWNSHIP:
                raise ValidationError({"township": _("单位必须属于乡镇/街道。")})
            if not self.code.startswith(township.prefix):
                raise ValidationError(
                    {
                        "code": _("单位代码 %(code)s 不在所属乡镇“%(name)s”的代码前缀 %(prefix)s 之内。")
                        % {"code": self.code, "name": township.name, "prefix": township.prefix}
                    }
                )


class UnitState(models.Model):
    """A state of a unit before its current one: the township it belonged to, its kind
    (so category) and whether it was active, from valid_from (null: since before the
    records) to valid_to. Written by units.services whenever one of them changes."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="states")
    township = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=UnitKind.choices)
    category = models.CharField(max_length=25, choices=Category.choices)
    active = models.BooleanField()
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField()

    class Meta:
        ordering = ["unit", "valid_to"]
        indexes = [models.Index(fields=["valid_to"], name="unit_state_to_idx")]


class DepartmentKind(models.TextChoices):
    POLITICAL_LEGAL = "political_legal", _("政法委")
    PETITION = "petition", _("信访")
    PUBLIC_SECURITY = "public_security", _("公安")
    EMERGENCY = "emergency", _("应急管理")
    JUSTICE = "justice", _("司法")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("卫生健康")
    TRANSPORT = "transport", _("交通运输")
    CULTURE_TOURISM = "culture_tourism", _("文化和旅游")
    ETHNIC_RELIGIOUS = "ethnic_religious", _("民族宗教")
    MARKET_REGULATION = "market_regulation", _("市场监管")
    HOUSING = "housing", _("住房和城乡建设")
    HUMAN_RESOURCES = "human_resources", _("人力资源和社会保障")
    AGRICULTURE = "agriculture", _("农业农村")
    NATURAL_RESOURCES = "natural_resources", _("自然资源")
    COURT = "court", _("人民法院")
    PROCURATORATE = "procuratorate", _("人民检察院")
    OTHER = "other", _("其他部门")


# the departments where petitions, cases and accidents are known first: they record
# incidents for any unit of their region (units.access.can_record_incident)
INCIDENT_SOURCE_KINDS = (DepartmentKind.PETITION, DepartmentKind.PUBLIC_SECURITY, DepartmentKind.EMERGENCY)


class Department(models.Model):
    """A department of a region (province, city or county): 小店区教育局, 太原市公安局 …
    Shipped as each level's standard set (units.departments), administrators add more."""

    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments")
    kind = models.CharField(_("部门类型"), max_length=20, choices=DepartmentKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("有效"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region_id", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="department_name_unique")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.region_id and self.region.level == Level.TOWNSHIP:
            raise ValidationError({"region": _("部门属于省、市或县（区），不属于乡镇/街道。")})


class Sector(models.Model):
    """行业部门监管: which kind of department supervises a kind of unit (schools →
    education, hospitals → health …), as data."""

    unit_kind = models.CharField(_("单位类型"), max_length=20, choices=UnitKind.choices, unique=True)
    department_kind = models.CharField(_("监管部门类型"), max_length=20, choices=DepartmentKind.choices)

    class Meta:
        verbose_name = _("行业监管")
        verbose_name_plural = _("行业监管")
        ordering = ["unit_kind"]

    def __str__(self):
        return f"{self.get_unit_kind_display()} → {self.get_department_kind_display()}"


class Role(models.TextChoices):
    TOWNSHIP_OFFICER = "township_officer", _("乡镇/街道工作人员")
    COUNTY_REVIEWER = "county_reviewer", _("县级审核人员")
    CITY_STAFF = "city_staff", _("市级政法委")
    PROVINCE_STAFF = "province_staff", _("省级政法委")
    DEPARTMENT_STAFF = "department_staff", _("行业部门工作人员")
    ADMIN = "admin", _("管理员")
    API_CLIENT = "api_client", _("接口客户端")


ROLE_LEVEL = {
    Role.TOWNSHIP_OFFICER: Level.TOWNSHIP,
    Role.COUNTY_REVIEWER: Level.COUNTY,
    Role.CITY_STAFF: Level.CITY,
    Role.PROVINCE_STAFF: Level.PROVINCE,
}


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.TOWNSHIP_OFFICER)
    region = models.ForeignKey(
        Region,
        verbose_name=_("管辖区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("管理员可留空表示全部区划"),
    )
    # a department's staff: their department (their region is its region)
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def is_api_client(self) -> bool:
        """The kernel's API permission asks this (it knows no roles)."""
        return self.role == Role.API_CLIENT

    def __str__(self):
        """People by their names (the login name beside), as the portal and the admin show them."""
        name = self.get_full_name() or self.first_name
        return f"{name}（{self.username}）" if name else self.username

    def clean(self):
        super().clean()
        level = ROLE_LEVEL.get(self.role)
        if level and not self.region_id:
            raise ValidationError({"region": _("该角色必须指定管辖区划。")})
        if level and self.region.level != level:
            raise ValidationError(
                {
                    "region": _("角色“%(role)s”的管辖区划必须是%(level)s级。")
                    % {"role": self.get_role_display(), "level": Level(level).label}
                }
            )
        if self.role == Role.API_CLIENT and not self.region_id:
            raise ValidationError({"region": _("接口客户端必须限定在一个区划内。")})
        if self.role == Role.DEPARTMENT_STAFF:
            if not self.department_id:
                raise ValidationError({"department": _("行业部门工作人员必须指定所属部门。")})
            if self.region_id != self.department.region_id:
                raise ValidationError(
                    {
                        "region": _("行业部门工作人员的管辖区划即其部门所属区划（%(r)s）。")
                        % {"r": self.department.region.name}
                    }
                )
        elif self.department_id:
            raise ValidationError({"department": _("只有行业部门工作人员有所属部门。")})


class TokenScope(models.TextChoices):
    STATISTICS = "statistics", _("统计数据")
    RECORDS = "records", _("业务数据（只读）")


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox): only its SHA-512 digest is stored, it is shown
    once when issued, it expires, and it is revoked when its user's password changes or
    the user is deactivated (units.signals). An API client's token carries a scope: the
    statistics scope reads attainment figures, regions, campaigns and standards only —
    no unit's contacts, no incident text (sanling.kernel.api.ReadOnlyForApiClients)."""

    scope = models.CharField(_("范围"), max_length=12, choices=TokenScope.choices, default=TokenScope.STATISTICS)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self):
        return f"{self.masked} · {self.user} · {self.get_scope_display()}"

    @property
    def masked(self) -> str:
        """The token as lists show it: its first 6 characters, as the admin always showed it (only its digest is kept)."""
        return f"{self.token_key[:6]}…"


GENESIS = "0" * 64  # the link before the first audit row


class AuditEvent(models.Model):
    """Who did what to which object, for actions that are not plain field edits
    (state changes, logins, exports, token issue/revoke, every admin write). Field edits
    are in the simple-history tables.

    The trail is permanent: rows are only ever inserted — on PostgreSQL a trigger refuses
    UPDATE and DELETE — and each row carries the SHA-256 of its own content and of the row
    before it (units.audit), so `manage.py verify_audit` finds the first row that was
    changed, removed or inserted behind the trail's back. The actor is kept by reference
    (a user is never deleted) and by name as it was."""

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("操作人"))
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=60, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    target_id = models.CharField(_("对象"), max_length=60, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"

    def canonical(self) -> bytes:
        """The row's content as hashed: documented in docs/security.md."""
        return json.dumps(
            {
                "prev": self.prev_hash,
                "at": self.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
                "actor": self.actor_id,
                "actor_name": self.actor_name,
                "action": self.action,
                "target_type": self.target_type,
                "target_id": self.target_id,
                "detail": self.detail,
                "ip": self.ip,
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        ).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()
