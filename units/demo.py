"""Deterministic demo data, generated fast with bulk inserts (COPY on PostgreSQL).

Everything generated here is marked is_demo: townships below county level are not
real (real ones are added by administrators), nor are the units, scores or incidents.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from sanling.bulk import bulk_insert

from .models import Level, Region, Unit, UnitKind, category_of
from .regions import ensure_demo_townships

# Roughly the mix of creating bodies in a province: most are villages and communities.
KIND_WEIGHTS = [
    (UnitKind.VILLAGE, 44),
    (UnitKind.COMMUNITY, 12),
    (UnitKind.SCHOOL, 9),
    (UnitKind.KINDERGARTEN, 5),
    (UnitKind.HOSPITAL, 3),
    (UnitKind.SCENIC_AREA, 1),
    (UnitKind.MARKET, 4),
    (UnitKind.FACTORY_MINE, 5),
    (UnitKind.STATION, 1),
    (UnitKind.AIRPORT, 0.05),
    (UnitKind.RELIGIOUS_SITE, 2),
    (UnitKind.CULTURAL_RELIC, 1),
    (UnitKind.ENTERPRISE_OUTLET, 3),
    (UnitKind.ENTERPRISE, 7),
    (UnitKind.INSTITUTION, 3),
]
KIND_NAMES = {
    UnitKind.VILLAGE: "村",
    UnitKind.COMMUNITY: "社区",
    UnitKind.SCHOOL: "中学",
    UnitKind.KINDERGARTEN: "幼儿园",
    UnitKind.HOSPITAL: "医院",
    UnitKind.SCENIC_AREA: "景区",
    UnitKind.MARKET: "农贸市场",
    UnitKind.FACTORY_MINE: "煤矿",
    UnitKind.STATION: "汽车站",
    UnitKind.AIRPORT: "机场",
    UnitKind.RELIGIOUS_SITE: "寺",
    UnitKind.CULTURAL_RELIC: "古建筑",
    UnitKind.ENTERPRISE_OUTLET: "营业网点",
    UnitKind.ENTERPRISE: "有限公司",
    UnitKind.INSTITUTION: "服务中心",
}
SYLLABLES = "东西南北中新安康和平兴隆福寿永宁庄河山水泉李王张刘陈杨赵黄周吴柳桃杏槐松柏"
UNITS_PER_TOWNSHIP = 300
CHUNK = 20_000


def _reset_sequence(model) -> None:
    if connection.vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cur.execute(sql)


def _next_id(model) -> int:
    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


@transaction.atomic
def seed_units(*, units: int, seed: int, province: str = "14", log=print) -> int:
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not security
    prefix = province[:2]
    if Unit.objects.filter(is_demo=True, township__code__startswith=prefix).exists():
        log("demo units already present; skipped (run `flush` to regenerate)")
        return 0
    counties = Region.objects.filter(level=Level.COUNTY, code__startswith=prefix).count()
    if not counties:
        raise ValueError(f"no counties under {prefix}: run load_regions first")
    per_county = max(2, math.ceil(units / (counties * UNITS_PER_TOWNSHIP)))
    townships = ensure_demo_townships(per_county=per_county, prefix=prefix)
    kinds, weights = zip(*KIND_WEIGHTS, strict=True)
    base = _next_id(Unit)
    now = timezone.now().isoformat()
    rows = []
    per_t = [0] * len(townships)
    for i in range(units):
        t_idx = i % len(townships)
        t = townships[t_idx]
        per_t[t_idx] += 1
        kind = rng.choices(kinds, weights)[0]
        name = "".join(rng.choice(SYLLABLES) for _ in range(2)) + KIND_NAMES[kind]
        rows.append(
            {
                "id": base + i,
                "township_id": t.code,
                "code": f"{t.prefix}{per_t[t_idx]:06d}",
                "name": f"{t.name.split('演示')[0]}{name}{per_t[t_idx]}",
                "kind": kind.value,
                "category": str(category_of(kind)),
                "address": "",
                "contact_person": "",
                "contact_phone": "",
                "active": True,
                "is_demo": True,
                "created_at": now,
            }
        )
    bulk_insert(Unit, rows, list(rows[0]))
    _reset_sequence(Unit)
    log(f"{units} demo units in {len(townships)} demo townships ({per_county} per county)")
    return units


@transaction.atomic
def seed_assessments(*, campaign, year: int, seed: int, log=print) -> tuple[int, int, int]:
    """For every in-scope demo unit: an assessment with all item scores (most approved,
    some in other states, some units unassessed) and a few incidents."""
    from inspections.models import Assessment, Incident, ItemScore
    from inspections.scoring import applicable_items

    rng = random.Random(seed * 7919 + year)  # noqa: S311 - deterministic demo data
    if Assessment.objects.filter(campaign=campaign, year=year, unit__is_demo=True).exists():
        log(f"{campaign.slug} {year}: demo assessments already present; skipped")
        return 0, 0, 0
    items = {cat: list(applicable_items(campaign.standard, cat)) for cat in campaign.categories}
    maxes = {cat: sum((i.max_score for i in its), Decimal(0)) for cat, its in items.items()}
    units = list(
        Unit.objects.filter(
            is_demo=True,
            active=True,
            township__code__startswith=campaign.scope.prefix,
            category__in=campaign.categories,
        )
        .values_list("id", "category")
        .order_by("id")
    )
    a_id, s_id, i_id = _next_id(Assessment), _next_id(ItemScore), _next_id(Incident)
    now = timezone.now().isoformat()
    a_rows, s_rows, i_rows = [], [], []
    counts = [0, 0, 0]

    def flush():
        for n, (model, rows) in enumerate(((Assessment, a_rows), (ItemScore, s_rows), (Incident, i_rows))):
            if rows:
                bulk_insert(model, rows, list(rows[0]))
                counts[n] += len(rows)
                rows.clear()

    statuses = ["approved"] * 70 + ["submitted"] * 10 + ["returned"] * 4 + ["draft"] * 4 + [None] * 12
    for n_unit, (unit_id, cat) in enumerate(units):
        # Flush every CHUNK units: ~20 item-score rows per unit, so memory stays at a
        # few hundred MB even for a million units.
        if n_unit and n_unit % CHUNK == 0:
            flush()
        status = rng.choice(statuses)
        if status is not None:
            total = Decimal(0)
            veto_failed = False
            strong = rng.random() < 0.85
            for item in items[cat]:
                if strong:
                    s = item.max_score if rng.random() < 0.8 else (item.max_score * Decimal(rng.randint(7, 9)) / 10)
                else:
                    s = item.max_score * Decimal(rng.randint(4, 10)) / 10
                s = s.quantize(Decimal("0.1"), ROUND_HALF_UP)
                if item.veto and s < item.max_score:
                    veto_failed = True
                total += s
                s_rows.append(
                    {
                        "id": s_id,
                        "assessment_id": a_id,
                        "item_id": item.id,
                        "self_score": s,
                        "reviewer_score": None,
                        "note": "",
                        "reviewer_note": "",
                    }
                )
                s_id += 1
            final = (total / maxes[cat] * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            a_rows.append(
                {
                    "id": a_id,
                    "unit_id": unit_id,
                    "campaign_id": campaign.id,
                    "year": year,
                    "standard_id": campaign.standard_id,
                    "status": status,
                    "lock_version": 1,
                    "total_score": total,
                    "max_score": maxes[cat],
                    "final_score": final,
                    "veto_failed": veto_failed,
                    "return_reason": "材料不全，请补充" if status == "returned" else "",
                    "overturn_reason": "",
                    "submitted_at": now if status != "draft" else None,
                    "approved_at": now if status == "approved" else None,
                    "reviewed_by_id": None,
                    "created_by_id": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            a_id += 1
        if rng.random() < 0.03:
            kind = rng.choice(
                [
                    "petition",
                    "public_safety",
                    "production_safety",
                    "criminal_case",
                    "public_order_case",
                    "homicide",
                    "dispute",
                ]
            )
            day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
            i_rows.append(
                {
                    "id": i_id,
                    "unit_id": unit_id,
                    "kind": kind,
                    "occurred_on": day.isoformat(),
                    "description": "演示事件",
                    "status": "dismissed" if rng.random() < 0.1 else "confirmed",
                    "reason": "",
                    "recorded_by_id": None,
                    "recorded_at": now,
                    "judged_by_id": None,
                    "judged_at": None,
                }
            )
            i_id += 1
    flush()
    for model in (Assessment, ItemScore, Incident):
        _reset_sequence(model)
    log(f"{campaign.slug} {year}: {counts[0]} assessments, {counts[1]} item scores, {counts[2]} incidents")
    return tuple(counts)


DEMO_PASSWORD = "Sanling@2026"  # noqa: S105 - printed demo credentials, demo data only


def seed_users(*, province: str = "14", log=print) -> list[tuple[str, str, str]]:
    """One demo account per role along one branch of the tree."""
    from .models import Role, User
    from .services import user_create

    p = Region.objects.get(code=province[:2].ljust(12, "0"))
    city = Region.objects.filter(level=Level.CITY, parent=p).order_by("code").first()
    county = Region.objects.filter(level=Level.COUNTY, parent=city).order_by("code").first()
    township = Region.objects.filter(level=Level.TOWNSHIP, parent=county).order_by("code").first()
    plan = [
        ("admin", Role.ADMIN, None),
        ("province", Role.PROVINCE_STAFF, p),
        ("city", Role.CITY_STAFF, city),
        ("county", Role.COUNTY_REVIEWER, county),
        ("officer", Role.TOWNSHIP_OFFICER, township),
        ("bigscreen", Role.API_CLIENT, p),
    ]
    out = []
    for username, role, region in plan:
        if not User.objects.filter(username=username).exists():
            user_create(username=username, role=role, region=region, password=DEMO_PASSWORD)
        out.append((username, DEMO_PASSWORD, f"{Role(role).label} · {region.name if region else '全部'}"))
    return out
