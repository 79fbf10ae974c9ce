"""factory_boy factories shared by the test packages."""

from decimal import Decimal

import factory
from django.utils import timezone

from inspections.models import Assessment, Incident, ItemScore
from standards.models import Area, Campaign, Item, Standard, Target
from units.models import Level, Region, Role, Unit, User


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"区划{n}")
    level = Level.TOWNSHIP


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = "village"
    township = None
    # 12 digits for villages and communities (statistical codes), 15 for the others
    code = factory.LazyAttributeSequence(
        lambda o, n: (
            f"{o.township.prefix}{n % 998 + 1:03d}"
            if o.kind in ("village", "community")
            else f"{o.township.prefix}{n % 1000:03d}{n // 1000:03d}"
        )
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.TOWNSHIP_OFFICER

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pw-Sanling-2026")
        if create:
            obj.save(update_fields=["password"])


class StandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Standard

    code = "test-standard"
    version = factory.Sequence(lambda n: n + 1)
    name = "测试标准"


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    code = factory.Sequence(lambda n: str(n + 1))
    title = factory.Sequence(lambda n: f"领域{n + 1}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"9.{n}")
    title = factory.Sequence(lambda n: f"条目{n}")
    max_score = Decimal(10)


def make_standard(*, version: int = 1) -> Standard:
    """A small standard: 1.1 (40, both), 1.2 (30, veto, both), 2.1 (30, villages only),
    2.2 (20, enterprises only). Max for either category: 100 vs 90 (合理缺项)."""
    std = StandardFactory(code="test-standard", version=version)
    a1 = AreaFactory(standard=std, code="1", title="组织领导保障有力", order=0)
    a2 = AreaFactory(standard=std, code="2", title="内部治安防范严密", order=1)
    ItemFactory(standard=std, area=a1, code="1.1", title="组织领导", max_score=Decimal(40), order=1)
    ItemFactory(standard=std, area=a1, code="1.2", title="零上访", max_score=Decimal(30), veto=True, order=2)
    ItemFactory(
        standard=std,
        area=a2,
        code="2.1",
        title="村规民约",
        max_score=Decimal(30),
        order=3,
        for_enterprise_institution=False,
    )
    ItemFactory(
        standard=std,
        area=a2,
        code="2.2",
        title="安全生产责任制",
        max_score=Decimal(20),
        order=4,
        for_village_community=False,
    )
    return std


def make_campaign(
    *, scope: Region, standard: Standard, slug: str = "test-sanling", zero_kinds=None, pass_mark: Decimal = Decimal(85)
) -> Campaign:
    c = Campaign.objects.create(
        slug=slug,
        name="测试“三零”创建",
        scope=scope,
        standard=standard,
        start_year=2020,
        end_year=2022,
        zero_kinds=zero_kinds
        or ["petition", "public_safety", "production_safety", "criminal_case", "public_order_case"],
        categories=["village_community", "enterprise_institution"],
        pass_mark=pass_mark,
    )
    Target.objects.create(campaign=c, region=scope, category="village_community", year=2022, rate=Decimal("0.8"))
    Target.objects.create(campaign=c, region=scope, category="enterprise_institution", year=2022, rate=Decimal("0.9"))
    return c


def make_assessment(
    *,
    unit: Unit,
    campaign: Campaign,
    year: int = 2022,
    scores: dict | None = None,
    status: str = "draft",
    full: bool = True,
    level: str | None = None,
) -> Assessment:
    """scores: item code -> Decimal; missing applicable items get full marks if `full`.
    A submitted one waits at `level` (default: the first of the campaign's chain)."""
    from inspections.scoring import applicable_items, rescore

    waiting = (level or campaign.review_levels[0]) if status == "submitted" else ""
    a = Assessment.objects.create(
        unit=unit,
        campaign=campaign,
        year=year,
        standard=campaign.standard,
        status=status,
        review_level=waiting,
        waiting_since=timezone.now() if waiting else None,
    )
    scores = scores or {}
    for item in applicable_items(campaign.standard, unit.category):
        s = scores.get(item.code, item.max_score if full else None)
        ItemScore.objects.create(assessment=a, item=item, self_score=s)
    rescore(a)
    if status == "approved":
        a.approved_at = timezone.now()
        a.save(update_fields=["approved_at"])
    return a


def make_incident(*, unit: Unit, kind: str = "criminal_case", occurred_on=None, status: str = "recorded"):
    return Incident.objects.create(
        unit=unit, kind=kind, occurred_on=occurred_on or timezone.localdate(), description="测试事件", status=status
    )


def figures(campaign, region, *, year: int = 2022, category: str = "village_community") -> tuple[int, int]:
    """(total, attained) of a region in the campaign-year's snapshot, as the roll-up wrote it."""
    from reports.models import AttainmentSnapshot

    row = AttainmentSnapshot.objects.get(campaign=campaign, year=year, region=region, category=category)
    return row.total_units, row.attained_units


def dept(where, kind: str = "political_legal"):
    """The standard department of `kind` of a unit's (or a township's) county, or of a
    county, city or province region (created, as load_departments names it, if missing)."""
    from units.departments import department_name
    from units.models import Department

    region = where.township if isinstance(where, Unit) else where
    if region.level == Level.TOWNSHIP:
        region = Region.objects.get(pk=region.parent_id)
    found = Department.objects.filter(region=region, kind=kind).first()
    return found or Department.objects.create(region=region, kind=kind, name=department_name(region, kind))
