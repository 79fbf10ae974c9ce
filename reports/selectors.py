"""Reads for the dashboards and exports. They read the snapshot, not raw units, except
a township's own unit list (a few hundred rows, with the rule's reasons)."""

from __future__ import annotations

from collections import OrderedDict

from django.contrib.staticfiles import finders
from django.db.models import DateField, F, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.http import Http404

from inspections.models import Assessment, Status
from standards.models import Campaign
from supervision import selectors as supervision_selectors
from units import access, history
from units.models import Category, Level, Region, Unit, UnitKind, User, child_level

from . import results
from .models import AttainmentHistory, AttainmentSnapshot, OfficialResult, RollupState


def dashboard_region(user: User, campaign: Campaign, code: str | None) -> Region:
    """The region to show: visible to the user and inside the campaign's scope."""
    if code:
        region = access.region_for(user, code)
        if not campaign.covers_region(region.code):
            raise Http404
        return region
    home = access.home_region(user)
    if home and campaign.covers_region(home.code):
        return home
    if access.can_see_region(user, campaign.scope):
        return campaign.scope
    raise Http404


def region_rows(campaign: Campaign, year: int, region: Region) -> dict[str, AttainmentSnapshot]:
    return {r.category: r for r in AttainmentSnapshot.objects.filter(campaign=campaign, year=year, region=region)}


def children_rows(campaign: Campaign, year: int, region: Region) -> list[dict]:
    """One entry per child region with its rows per category, in code order; each under
    its name of that year, with what it became if it has ended since (“已撤并入 …”)."""
    level = child_level(region.level)
    if level is None:
        return []
    rows = (
        AttainmentSnapshot.objects.filter(
            campaign=campaign, year=year, level=level, region__code__startswith=region.prefix
        )
        .select_related("region")
        .order_by("region_id", "category")
    )
    out: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        entry = out.setdefault(r.region_id, {"region": r.region, "rows": {}})
        entry["rows"][r.category] = r
    labels = history.labels_on([e["region"] for e in out.values()], history.year_end(year))
    for code, entry in out.items():
        entry.update(labels[code])
    return list(out.values())


def era(user: User, region: Region, year: int) -> dict:
    """The region in that year: its name then; what it became if it has ended since; and,
    when it did not exist at the year's end, why — founded later (with the predecessors
    whose pages hold that year, if the user may see them) or ended before."""
    day = history.year_end(year)
    out = {"founded": None, "ended": None, "predecessors": [], **history.labels_on([region], day)[region.code]}
    if region.valid_from is not None and region.valid_from > day:
        out["founded"] = region.valid_from
        out["predecessors"] = [
            r
            for r in history.regions_as_of(day, access.visible_regions(user)).filter(
                code__in=history.predecessors(region.code)
            )
        ]
    elif region.valid_to is not None and region.valid_to < day:
        out["ended"] = region.valid_to
        out["became"] = history.successors([region.code], region.valid_to).get(region.code, [])
    return out


def township_units(user: User, region: Region, year: int) -> QuerySet[Unit]:
    """The units that belonged to the township at the end of the year (a unit moved away
    later is still listed for that year; one moved in later is not), as far as the user
    may see them now."""
    ids = history.units_as_of(history.year_end(year), access.visible_units(user)).filter(
        **{history.AS_OF["township"]: region.code}
    )
    return Unit.objects.filter(pk__in=ids.values("pk")).order_by("code")


def laggards(children: list[dict], category: str, n: int = 5) -> list[AttainmentSnapshot]:
    rows = [c["rows"][category] for c in children if category in c["rows"] and c["rows"][category].total_units]
    return sorted(rows, key=lambda r: (r.rate, -r.gap_units))[:n]


def closed_results(campaign: Campaign) -> dict[int, OfficialResult]:
    """The campaign's closed years (one query), for the pages that mark them."""
    return {r.year: r for r in OfficialResult.objects.filter(campaign=campaign)}


def trend(campaign: Campaign, region: Region, closed: dict | None = None) -> dict[str, list]:
    """Rate per campaign year, per category: each year's current figures (its snapshot
    row — history keeps the closing figures of past days)."""
    latest = {(s.year, s.category): s for s in AttainmentSnapshot.objects.filter(campaign=campaign, region=region)}
    series = {cat: [] for cat in campaign.categories}
    for cat in campaign.categories:
        for y in campaign.years:
            h = latest.get((y, cat))
            series[cat].append(None if h is None or not h.total_units else round(float(h.rate) * 100, 1))
    # the official years, marked beside the live line (the closed result's figures)
    official = results.official_by_year(campaign, region, closed_results(campaign) if closed is None else closed)
    marks = {
        cat: [
            round(float(official[y][cat].rate) * 100, 1)
            if y in official and cat in official[y] and official[y][cat].total_units
            else None
            for y in campaign.years
        ]
        for cat in campaign.categories
    }
    return {"years": campaign.years, "series": series, "official": marks, "official_years": sorted(official)}


def official(campaign: Campaign, year: int, regions: list[Region], closed: dict | None = None) -> dict:
    """The closed result of the campaign-year, if any: its status, and the official
    figures of these regions per (region, category), and which fell below the previous
    year's official result."""
    closed = closed_results(campaign) if closed is None else closed
    result = closed.get(year)
    if result is None:
        return {"result": None, "rows": {}, "fell": set()}
    rows = results.current_region_rows(result, result.region_rows.filter(region__in=regions))
    return {
        "result": result,
        "rows": {(r.region_id, r.category): r for r in rows},
        "fell": results.fell_since_previous(result),
    }


def daily(campaign: Campaign, year: int, region: Region, category: str | None = None) -> list[dict]:
    """One point per day with a roll-up, oldest first: each past day's closing figures from
    history, then the snapshot as the figures of the day it was last written. One query, so
    a roll-up that closes a day while it runs cannot make a point go missing or repeat."""
    day = Subquery(
        RollupState.objects.filter(campaign=campaign, year=year, computed_at__isnull=False)
        .annotate(d=TruncDate("computed_at"))
        .values("d")[:1],
        output_field=DateField(),
    )
    fields = ["category", "total_units", "attained_units", "rate", "target_rate", "met", "gap_units"]
    hist = (
        AttainmentHistory.objects.filter(campaign=campaign, year=year, region=region)
        .annotate(d=F("day"))
        .filter(d__lt=day)
    )
    snap = (
        AttainmentSnapshot.objects.filter(campaign=campaign, year=year, region=region)
        .annotate(d=day)
        .filter(d__isnull=False)
    )
    if category:
        hist, snap = hist.filter(category=category), snap.filter(category=category)
    rows = (
        hist.order_by()
        .values(*fields, "d")
        .union(snap.order_by().values(*fields, "d"), all=True)
        .order_by("d", "category")
    )
    return [{"day": r.pop("d"), **r} for r in rows]


def subtree_rows(user: User, campaign: Campaign, year: int, region: Region) -> QuerySet[AttainmentSnapshot]:
    qs = AttainmentSnapshot.objects.filter(campaign=campaign, year=year, region__code__startswith=region.prefix)
    return access.scope_regions(user, qs).select_related("region").order_by("region_id", "category")


def state(campaign: Campaign, year: int) -> RollupState | None:
    return RollupState.objects.filter(campaign=campaign, year=year).first()


def level_label(level: str) -> str:
    return Level(level).label


def sector_rows(campaign: Campaign, year: int, region: Region, kinds: list[str]) -> dict:
    """A sector's figures (a department's unit kinds) for a region and each child region,
    from the snapshot's split by kind: units and attained of those kinds, over the
    campaign's categories."""

    def of(rows) -> dict:
        by_kind = {}
        for r in rows:
            for kind, (total, attained) in r.by_kind.items():
                if kind in kinds:
                    t, a = by_kind.get(kind, (0, 0))
                    by_kind[kind] = (t + total, a + attained)
        total = sum(t for t, _a in by_kind.values())
        attained = sum(a for _t, a in by_kind.values())
        return {
            "total": total,
            "attained": attained,
            "rate": attained / total if total else None,
            "by_kind": [
                {"kind": k, "label": UnitKind(k).label, "total": t, "attained": a, "rate": a / t if t else None}
                for k, (t, a) in sorted(by_kind.items())
            ],
        }

    own = of(region_rows(campaign, year, region).values())
    children = [
        {"region": ch["region"], "name": ch["name"], **of(ch["rows"].values())}
        for ch in children_rows(campaign, year, region)
    ]
    return {"region": own, "children": [c for c in children if c["total"]]}


# --- the map (挂图作战) and the big screen ---------------------------------------------

GEO_DIR = "vendor/geo"  # static/vendor/geo: shapes keyed by six-digit division code
NEAR_POINTS = 5  # “within 5 points of the target”: the map's middle band


def map_shapes(region: Region) -> str | None:
    """The static path of the shapes of the region's children (a province's cities, a
    city's counties), or None where the portal ships none (a county's townships)."""
    if region.level not in (Level.PROVINCE, Level.CITY):
        return None
    path = f"{GEO_DIR}/{region.prefix}.json"
    return path if finders.find(path) else None


def band(row: AttainmentSnapshot) -> str | None:
    """Where a region stands against its target: met, near (within NEAR_POINTS
    percentage points), far; None without units or without a target. `met` is the
    rule's, so the map agrees with the dashboard's 已完成/未完成."""
    if not row.total_units or row.target_rate is None:
        return None
    if row.met:
        return "met"
    return "near" if (row.rate - row.target_rate) * 100 >= -NEAR_POINTS else "far"


def _pct(value) -> float | None:
    return None if value is None else round(float(value) * 100, 1)


def child_task_counts(user: User, region: Region) -> list[dict]:
    """Open, overdue and closed rectification tasks per child region (a township: its
    own), as far as the user may see them: one grouped query."""
    return supervision_selectors.task_counts_by_child(supervision_selectors.tasks(user, region), region)


def task_totals(child_counts: list[dict]) -> dict:
    """The region's own counts, as `supervision.selectors.task_counts` gives them: the sum
    of its children's, since every task lies in exactly one child."""
    return {k: sum(r[k] for r in child_counts) for k in ("open", "overdue", "closed")}


def map_rows(children: list[dict], child_counts: list[dict]) -> list[dict]:
    """One row per child region for the map: its figures per category (rate, target,
    gap in points and units, band) from the dashboard's own `children_rows`, and its
    open and overdue rectification tasks (`child_task_counts`). Keyed by the six-digit
    code the shapes carry."""
    tasks = {t["code"]: t for t in child_counts}
    rows: dict[str, dict] = {}
    for ch in children:
        code = ch["region"].code
        rows[code] = {
            "code": code[:6],
            "region": code,
            "name": ch["name"],
            "figures": {
                cat: {
                    "rate": _pct(r.rate) if r.total_units else None,
                    "target": _pct(r.target_rate),
                    "gap": round(float(r.rate - r.target_rate) * 100, 1)
                    if r.total_units and r.target_rate is not None
                    else None,
                    "gap_units": r.gap_units,
                    "total": r.total_units,
                    "attained": r.attained_units,
                    "band": band(r),
                }
                for cat, r in ch["rows"].items()
            },
        }
    for code, t in tasks.items():
        row = rows.setdefault(code, {"code": code[:6], "region": code, "name": t["name"], "figures": {}})
        row.update(open=t["open"], overdue=t["overdue"])
    for row in rows.values():
        row.setdefault("open", 0)
        row.setdefault("overdue", 0)
    return [rows[c] for c in sorted(rows)]


def assessed_units(user: User, campaign: Campaign, year: int, region: Region) -> int:
    """The units of the region whose assessment of the campaign-year has been approved
    (审核通过), as far as the user may see them: one count."""
    qs = Assessment.objects.filter(
        campaign=campaign, year=year, status=Status.APPROVED, unit__township__code__startswith=region.prefix
    )
    return access.scope(user, qs).count()


def screen(user: User, campaign: Campaign, year: int, region: Region, n: int = 6) -> dict:
    """The big screen's figures (大屏), all through the dashboard's own selectors: the
    region's rows per category, its approved assessments and tasks, the trend by year,
    the child regions furthest below their target, the children with the most overdue
    tasks, and the map's rows. Plain data, for the API."""
    cards = region_rows(campaign, year, region)
    children = children_rows(campaign, year, region)
    counts = child_task_counts(user, region)
    computed = state(campaign, year)
    below = [
        (float(r.rate - r.target_rate), cat, ch)
        for ch in children
        for cat, r in ch["rows"].items()
        if r.total_units and r.target_rate is not None and not r.met
    ]
    below.sort(key=lambda t: (t[0], t[2]["region"].code, t[1]))
    return {
        "campaign": {"slug": campaign.slug, "name": campaign.name},
        "year": year,
        "region": {"code": region.code, "name": era(user, region, year)["name"], "level": region.level},
        "child_level": child_level(region.level),
        "computed_at": computed.computed_at.isoformat() if computed and computed.computed_at else None,
        "categories": {c: str(Category(c).label) for c in campaign.categories},
        "cards": [
            {
                "category": c,
                "total_units": r.total_units,
                "attained_units": r.attained_units,
                "rate": _pct(r.rate) if r.total_units else None,
                "target_rate": _pct(r.target_rate),
                "met": r.met,
                "gap_units": r.gap_units,
            }
            for c in campaign.categories
            if (r := cards.get(c)) is not None
        ],
        "assessed": assessed_units(user, campaign, year, region),
        "tasks": task_totals(counts),
        "trend": {k: v for k, v in trend(campaign, region).items() if k in ("years", "series")},
        "laggards": [
            {
                "code": ch["region"].code,
                "name": ch["name"],
                "category": cat,
                "rate": _pct(ch["rows"][cat].rate),
                "target": _pct(ch["rows"][cat].target_rate),
                "gap": round(gap * 100, 1),
                "gap_units": ch["rows"][cat].gap_units,
            }
            for gap, cat, ch in below[:n]
        ],
        "overdue": [
            {"code": t["code"], "name": t["name"], "open": t["open"], "overdue": t["overdue"]}
            for t in counts
            if t["overdue"]
        ][: n + 2],
        "map": {"shapes": map_shapes(region), "rows": map_rows(children, counts)},
    }
