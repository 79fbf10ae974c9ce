"""Load the shipped standards and campaigns (standards/data/*.json). Idempotent: what
exists is left as administrators edited it; only what is missing is created."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from units.models import Region

from .models import Area, Campaign, Item, ItemMapping, RegionIndicator, Standard, Target

DATA = Path(__file__).resolve().parent / "data"
STANDARD_FILES = ["shanxi-sanling-v1.json", "jinzhong-sanzhi-sanling-v1.json"]


@transaction.atomic
def load_standard(data: dict) -> tuple[Standard, bool]:
    existing = Standard.objects.filter(code=data["code"], version=data["version"]).first()
    if existing:
        return existing, False
    std = Standard.objects.create(
        code=data["code"],
        version=data["version"],
        name=data["name"],
        note=data.get("note", ""),
        published_at=timezone.now(),
    )
    order = 0
    for a_idx, a in enumerate(data["areas"]):
        area = Area.objects.create(standard=std, code=a["code"], title=a["title"], order=a_idx)
        for it in a["items"]:
            order += 1
            ind = it.get("indicator") or {}
            Item.objects.create(
                standard=std,
                area=area,
                code=it["code"],
                title=it["title"],
                guidance=it.get("guidance", ""),
                max_score=Decimal(str(it["max_score"])),
                veto=bool(it.get("veto")),
                for_village_community="village_community" in it["categories"],
                for_enterprise_institution="enterprise_institution" in it["categories"],
                evidence=it.get("evidence", ""),
                order=order,
                indicator_name=ind.get("name", ""),
                indicator_comparison=ind.get("comparison", ""),
                indicator_threshold=Decimal(str(ind["threshold"])) if ind else None,
                indicator_unit=ind.get("unit", ""),
                indicator_rule=ind.get("rule", ""),
                indicator_numerator=ind.get("numerator", ""),
                indicator_denominator=ind.get("denominator", ""),
            )
    return std, True


@transaction.atomic
def load_campaign(data: dict) -> tuple[Campaign | None, str]:
    if Campaign.objects.filter(slug=data["slug"]).exists():
        return Campaign.objects.get(slug=data["slug"]), "exists"
    scope = Region.objects.filter(code=data["scope"]).first()
    if scope is None:
        return None, f"skipped: scope region {data['scope']} not loaded"
    code, version = data["standard"]
    std = Standard.objects.get(code=code, version=version)
    c = Campaign(
        slug=data["slug"],
        name=data["name"],
        scope=scope,
        standard=std,
        start_year=data["start_year"],
        end_year=data["end_year"],
        ongoing=data.get("ongoing", False),
        zero_kinds=data["zero_kinds"],
        conditions=data.get("conditions", []),
        categories=data["categories"],
        pass_mark=Decimal(str(data["pass_mark"])),
        city_grade_pass_mark=(
            Decimal(str(data["city_grade_pass_mark"])) if data.get("city_grade_pass_mark") is not None else None
        ),
        review_levels=data.get("review_levels", ["county"]),
    )
    c.full_clean()
    c.save()
    for t in data["targets"]:
        Target.objects.create(
            campaign=c, region_id=t["region"], category=t["category"], year=t["year"], rate=Decimal(str(t["rate"]))
        )
    for ind in data.get("region_indicators", []):
        RegionIndicator.objects.create(campaign=c, **{**ind, "threshold": Decimal(str(ind["threshold"]))})
    return c, "created"


def load_all(stdout=None) -> None:
    for name in STANDARD_FILES:
        std, created = load_standard(json.loads((DATA / name).read_text(encoding="utf-8")))
        if stdout:
            stdout.write(f"{std}: {'created' if created else 'already loaded'} ({std.items.count()} items)")
    from .kinds import load_tree

    load_tree()  # the incident-kind tree the campaigns' zero-kinds name
    for data in json.loads((DATA / "campaigns.json").read_text(encoding="utf-8")):
        c, what = load_campaign(data)
        if stdout:
            stdout.write(f"campaign {data['slug']}: {what}")
    for data in json.loads((DATA / "mappings.json").read_text(encoding="utf-8"))["mappings"]:
        what = load_mapping(data)
        if stdout:
            stdout.write(f"mapping {data['campaign']} → {data['implements']}: {what}")


@transaction.atomic
def load_mapping(data: dict) -> str:
    """Declare `campaign` the local implementation of `implements` and store its item
    mapping (each row validated: items of the right standards, weights in (0, 1], no cycle
    of implementations). A campaign that already has a mapping is left as it is."""
    local = Campaign.objects.filter(slug=data["campaign"]).first()
    wider = Campaign.objects.filter(slug=data["implements"]).first()
    if local is None or wider is None:
        return "skipped: campaign not loaded"
    if local.mappings.exists():
        return "exists"
    local.implements = wider
    local.full_clean()
    local.save(update_fields=["implements"])
    wider_items = {i.code: i for i in wider.standard.items.all()}
    local_items = {i.code: i for i in local.standard.items.all()}
    for code, rule in data["items"].items():
        if rule == "full":
            rows = [ItemMapping(campaign=local, wider_item=wider_items[code], full=True)]
        else:
            rows = [
                ItemMapping(
                    campaign=local, wider_item=wider_items[code], local_item=local_items[lc], weight=Decimal(str(w))
                )
                for lc, w in rule
            ]
        for m in rows:
            m.full_clean()
            m.save()
    return "created"
