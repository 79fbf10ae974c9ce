"""Deterministic demo data, generated fast with bulk inserts (COPY on PostgreSQL).

The tree and the villages and communities are real (load_regions). What is generated
here is marked is_demo: enterprises and institutions in the real townships (and, for a
province loaded without its townships, demo townships with demo units of every kind).
Assessments and incidents are seeded by inspections.demo; sanling's seed_demo command
composes both.
"""

from __future__ import annotations

import math
import random

from django.db import transaction
from django.utils import timezone

from sanling.kernel.bulk import bulk_insert, next_id, reset_sequence

from .models import Level, Region, Unit, UnitKind, category_of
from .regions import ensure_demo_townships

# Roughly the mix of creating bodies in a province: most are villages and communities
# (real ones where the tree is loaded to the villages: then only the rest is generated).
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
    real = list(Region.objects.filter(level=Level.TOWNSHIP, code__startswith=prefix, is_demo=False).order_by("code"))
    if real:
        # the real tree: its villages and communities are loaded; add the other creating bodies
        townships = real
        mix = [(k, w) for k, w in KIND_WEIGHTS if category_of(k) != "village_community"]
    else:
        per_county = max(2, math.ceil(units / (counties * UNITS_PER_TOWNSHIP)))
        townships = ensure_demo_townships(per_county=per_county, prefix=prefix)
        mix = KIND_WEIGHTS
    kinds, weights = zip(*mix, strict=True)
    base = next_id(Unit)
    now = timezone.now().isoformat()
    rows = []
    per_t = [0] * len(townships)
    villages_t = [0] * len(townships)
    for i in range(units):
        t_idx = i % len(townships)  # spread evenly over the townships …
        t = townships[t_idx]
        per_t[t_idx] += 1
        kind = rng.choices(kinds, weights)[0]
        name = "".join(rng.choice(SYLLABLES) for _ in range(2)) + KIND_NAMES[kind]
        if category_of(kind) == "village_community":  # demo townships only: 12-digit codes, as real ones
            villages_t[t_idx] += 1
            code = f"{t.prefix}{villages_t[t_idx]:03d}"
        else:
            code = f"{t.prefix}{per_t[t_idx]:06d}"
        rows.append(
            {
                "township_id": t.code,
                "code": code,
                "name": f"{t.name.split('演示')[0]}{name}{per_t[t_idx]}",
                "kind": kind.value,
                "category": str(category_of(kind)),
                "address": "",
                "contact_person": "",
                "contact_phone": "",
                "active": True,
                "is_demo": True,
                "created_at": now,
                "official_name": "",
                "credit_code": None,
                "state_since": None,
            }
        )
    # … and written township by township, as a province's units arrive (each township
    # registers its own list): the table's physical order is what every count by township
    # reads in (round-robin rows made the roll-up's hash of (township, kind) pairs miss the
    # CPU's caches on every row — docs/benchmarks.md)
    rows.sort(key=lambda r: r["township_id"])
    for i, row in enumerate(rows):
        row["id"] = base + i
    bulk_insert(Unit, rows, list(rows[0]))
    reset_sequence(Unit)
    log(f"{units} demo units in {len(townships)} {'real' if real else 'demo'} townships")
    return units


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
    # the county's 教育局 (sector supervision) and its police (incidents known first)
    from .departments import load_departments, load_sectors
    from .models import Department, DepartmentKind

    load_sectors()
    load_departments(county.code)
    for username, kind in (("education", DepartmentKind.EDUCATION), ("police", DepartmentKind.PUBLIC_SECURITY)):
        dept = Department.objects.get(region=county, kind=kind)
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                role=Role.DEPARTMENT_STAFF,
                region=county,
                department=dept,
                password=DEMO_PASSWORD,
            )
        out.append((username, DEMO_PASSWORD, f"{Role.DEPARTMENT_STAFF.label} · {dept.name}"))
    return out
