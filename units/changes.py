"""Recorded changes of the tree (行政区划调整): rename, merge, split, move and recode — each
one operation with its kind, effective date and legal basis, applied in one transaction,
audited and listed (units.models.RegionChange).

A change never rewrites the past. A region that ends keeps its row with `valid_to` (the
day before the change) and its successors begin on the change's day; units that move get
a UnitState row for the time before; a renamed region keeps its old name for the years
before. So a year's tree — the regions valid at its end — and a year's figures stay as
they were, and a later year uses the new tree (units.history, reports.rollup).

Codes carry the hierarchy (a region's code prefix names its subtree), so a region that
moves to a new parent, or whose code changes, becomes a new region under its new code:
its children are recoded with it (the same local number under the new prefix, or the
next free one), and every unit below follows. Officers and reviewers of a region that
ends become officers of its successor, which also sees the predecessor's past
(units.access.region_prefixes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sanling.kernel.authentication import forget_token
from sanling.kernel.errors import ServiceError
from sanling.kernel.events import send_after_commit

from . import access
from .audit import audit
from .events import tree_changed, tree_changing
from .models import (
    LEVEL_ORDER,
    PARENT_LEVEL,
    PREFIX_LENGTH,
    ApiToken,
    ChangeKind,
    Level,
    Region,
    RegionChange,
    RegionName,
    Unit,
    UnitState,
    User,
)


@dataclass(frozen=True)
class Target:
    code: str
    name: str
    parent_code: str | None = None


def _day_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=1)


def _refuse(field: str, message: str):
    raise ServiceError({field: [message]})


EARLIEST = dt.date(1949, 10, 1)


def _check_day(effective_on: dt.date) -> None:
    """A change is recorded once it has taken effect (the officers and units move at once),
    and not before the statistical codes begin."""
    if effective_on > timezone.localdate():
        _refuse("effective_on", _("生效日期 %(d)s 晚于今天：请在调整生效后再记录。") % {"d": effective_on})
    if effective_on < EARLIEST:
        _refuse("effective_on", _("生效日期 %(d)s 早于 %(e)s。") % {"d": effective_on, "e": EARLIEST})


def _in_order(regions: list[Region], effective_on: dt.date) -> None:
    """Changes of a part of the tree are recorded in the order they take effect: none may
    reach back before a change already recorded for the regions or anything under them
    (several on one day are fine: the Datong reorganisation is four), nor before a later
    state of a unit in them (the past would be rewritten under it)."""
    subtree = Q()
    for r in regions:
        subtree |= Q(sources__code__startswith=r.prefix) | Q(targets__code__startswith=r.prefix)
    later = RegionChange.objects.filter(subtree, effective_on__gt=effective_on).order_by("-effective_on").first()
    if later is not None:
        _refuse(
            "effective_on",
            _("该区划已有 %(d)s 生效的调整（%(k)s）：调整须按生效日期先后记录。")
            % {"d": later.effective_on, "k": later.get_kind_display()},
        )
    renamed = [r for r in regions if r.renamed_on is not None and r.renamed_on >= effective_on]
    if renamed:
        _refuse(
            "effective_on",
            _("“%(r)s”已于 %(d)s 更名：调整须按生效日期先后记录。")
            % {"r": renamed[0].name, "d": renamed[0].renamed_on},
        )
    prefixes = Q()
    for r in regions:
        prefixes |= Q(township__code__startswith=r.prefix)
    state = UnitState.objects.filter(prefixes, valid_to__gte=effective_on).select_related("unit").first()
    if state is not None:
        _refuse(
            "effective_on",
            _("单位“%(u)s”在 %(d)s 之后仍有属于“%(r)s”的状态：调整须按生效日期先后记录。")
            % {"u": state.unit.name, "d": effective_on, "r": state.township.name},
        )


def _sources(codes: list[str], by: User, effective_on: dt.date) -> list[Region]:
    if not codes:
        _refuse("sources", _("请指定要调整的区划。"))
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        _refuse("sources", _("区划 %(c)s 重复出现。") % {"c": "、".join(twice)})
    regions = {r.code: r for r in access.visible_regions(by).filter(code__in=codes)}
    missing = [c for c in codes if c not in regions]
    if missing:
        _refuse("sources", _("区划 %(c)s 不存在或不在您的管辖范围内。") % {"c": "、".join(missing)})
    out = [regions[c] for c in codes]
    for r in out:
        if r.valid_to is not None:
            _refuse("sources", _("“%(r)s”已于 %(d)s 撤销，不能再调整。") % {"r": r.name, "d": r.valid_to})
        if r.valid_from is not None and effective_on <= r.valid_from:
            _refuse(
                "effective_on",
                _("生效日期 %(e)s 不晚于“%(r)s”的设立日期 %(d)s。")
                % {"e": effective_on, "r": r.name, "d": r.valid_from},
            )
    return out


def _new_region(target: Target, level: str, effective_on: dt.date, by: User) -> Region:
    """A successor that does not exist yet: checked like any region (code rule, parent)."""
    if Region.objects.filter(code=target.code).exists():
        _refuse("targets", _("区划代码 %(c)s 已存在。") % {"c": target.code})
    parent = Region.objects.filter(code=target.parent_code or "").first() if level != Level.PROVINCE else None
    if level != Level.PROVINCE:
        if parent is None:
            _refuse(
                "targets", _("新区划 %(c)s 的上级区划 %(p)s 不存在。") % {"c": target.code, "p": target.parent_code}
            )
        if not access.can_see_region(by, parent):
            _refuse("targets", _("上级区划 %(p)s 不在您的管辖范围内。") % {"p": parent.code})
        if not parent.valid_on(effective_on) or parent.valid_to is not None:
            _refuse("targets", _("上级区划“%(p)s”在 %(d)s 不是有效区划。") % {"p": parent.name, "d": effective_on})
    region = Region(code=target.code, name=target.name, level=level, parent=parent, valid_from=effective_on)
    try:
        region.full_clean()
    except ValidationError as exc:
        raise ServiceError({"targets": [m for ms in exc.message_dict.values() for m in ms]}) from None
    region.save()
    return region


def _inherit(successor: Region, *sources: Region) -> None:
    """The successor sees its sources' past: their prefixes, and their predecessors'."""
    prefixes = list(successor.predecessor_prefixes)
    for src in sources:
        for p in [src.prefix, *src.predecessor_prefixes]:
            if p not in prefixes and not p.startswith(successor.prefix):
                prefixes.append(p)
    successor.predecessor_prefixes = prefixes
    successor.save(update_fields=["predecessor_prefixes"])


def _existing_as_named(existing: Region, target: Target) -> None:
    """An existing region named as a target must be the one meant: the parent and name
    given, if any, are its own (else a typo in a code would merge into a stranger)."""
    if target.parent_code and target.parent_code != existing.parent_id:
        _refuse(
            "targets",
            _("区划代码 %(c)s 已存在，其上级为“%(p)s”，不是 %(g)s。")
            % {"c": existing.code, "p": existing.parent.name if existing.parent else "—", "g": target.parent_code},
        )
    if target.name and target.name.strip() != existing.name:
        _refuse(
            "targets",
            _("区划代码 %(c)s 已存在，名称为“%(n)s”，不是“%(g)s”。")
            % {"c": existing.code, "n": existing.name, "g": target.name.strip()},
        )


def _end(region: Region, effective_on: dt.date) -> None:
    region.valid_to = _day_before(effective_on)
    region.save(update_fields=["valid_to"])


def _move_units(units, township: Region, effective_on: dt.date) -> int:
    """Units to another township from `effective_on`: their state before kept (bulk)."""
    units = list(units)
    day_before = _day_before(effective_on)
    states, moved = [], []
    for u in units:
        if u.state_since is not None and u.state_since > effective_on:
            _refuse(
                "effective_on",
                _("单位“%(u)s”的状态自 %(s)s 起才有效，早于此的调整请先处理该单位。")
                % {"u": u.name, "s": u.state_since},
            )
        if u.state_since is None or u.state_since < effective_on:
            states.append(
                UnitState(
                    unit=u,
                    township_id=u.township_id,
                    kind=u.kind,
                    category=u.category,
                    active=u.active,
                    valid_from=u.state_since,
                    valid_to=day_before,
                )
            )
        u.township = township
        u.state_since = effective_on
        moved.append(u)
    UnitState.objects.bulk_create(states, batch_size=2000)
    Unit.objects.bulk_update(moved, ["township", "state_since"], batch_size=2000)
    return len(moved)


def _forget_tokens(users) -> None:
    """An update() sends no signal: the cached token answers of these accounts go now and
    again after commit (a request in between may have cached the old region)."""
    digests = list(ApiToken.objects.filter(user__in=users).values_list("digest", flat=True))
    for digest in digests:
        forget_token(digest)
    transaction.on_commit(lambda: [forget_token(d) for d in digests])


def _officers_to(source: Region, successor: Region) -> list[str]:
    """The accounts of a region that ends become accounts of its successor."""
    users = list(User.objects.filter(region=source))
    User.objects.filter(region=source).update(region=successor)
    _forget_tokens(users)
    return [u.username for u in users]


def _recode_subtree(old: Region, new: Region, effective_on: dt.date, detail: dict, part_of: RegionChange) -> None:
    """The children of a region that became `new`: each becomes a child of `new` under the
    same local number (or the next free one), recursively; units and officers follow."""
    level = LEVEL_ORDER[LEVEL_ORDER.index(old.level) + 1] if old.level != Level.TOWNSHIP else None
    if level is None:
        detail.setdefault("units_moved", 0)
        detail["units_moved"] += _move_units(Unit.objects.filter(township=old), new, effective_on)
        detail.setdefault("officers", {})[old.code] = _officers_to(old, new)
        return
    n = PREFIX_LENGTH[level]
    taken = set(Region.objects.filter(code__startswith=new.prefix, level=level).values_list("code", flat=True))
    for child in Region.objects.filter(parent=old, valid_to__isnull=True).order_by("code"):
        local = child.code[PREFIX_LENGTH[old.level] : n]
        code = (new.prefix + local).ljust(12, "0")
        number = int(local)
        while code in taken:
            number += 1
            code = (new.prefix + str(number).zfill(len(local))).ljust(12, "0")
        taken.add(code)
        successor = Region.objects.create(code=code, name=child.name, level=level, parent=new, valid_from=effective_on)
        _inherit(successor, child)
        _end(child, effective_on)
        change = RegionChange.objects.create(
            kind=ChangeKind.RECODE,
            effective_on=effective_on,
            basis=part_of.basis,
            detail={"with": new.code},
            recorded_by=part_of.recorded_by,
            part_of=part_of,
        )
        change.sources.add(child)
        change.targets.add(successor)
        detail.setdefault("recoded", {})[child.code] = code
        _recode_subtree(child, successor, effective_on, detail, part_of)
    detail.setdefault("officers", {})[old.code] = _officers_to(old, new)


@transaction.atomic
def region_change(
    *,
    kind: str,
    effective_on: dt.date,
    sources: list[str],
    targets: list[Target],
    basis: str,
    by: User,
    units: dict[str, str] | None = None,
    officers: dict[str, str] | None = None,
) -> RegionChange:
    """Record and apply one change of the tree. Refused as a whole (ServiceError, nothing
    stored) when it does not hold: sources of different levels, a target that exists or
    breaks the code rule, a day before a region existed, units of a split left unassigned,
    officers left without a township."""
    if not access.can_create_regions(by):
        raise PermissionDenied(_("只有管理员可以调整区划。"))
    _check_day(effective_on)
    if kind not in ChangeKind.values:
        _refuse("kind", _("未知的调整类型“%(k)s”，可选：%(all)s。") % {"k": kind, "all": "、".join(ChangeKind.values)})
    if not (basis or "").strip():
        _refuse("basis", _("请填写调整依据（如批准文件的文号）。"))
    src = _sources(sources, by, effective_on)
    levels = {r.level for r in src}
    if len(levels) != 1:
        _refuse(
            "sources",
            _("参与调整的区划应为同一层级，本次为：%(l)s。")
            % {"l": "、".join(str(Level(lvl).label) for lvl in sorted(levels))},
        )
    level = levels.pop()
    if not targets:
        _refuse("targets", _("请指定调整后的区划。"))
    codes = [t.code for t in targets]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        _refuse("targets", _("区划 %(c)s 重复出现。") % {"c": "、".join(twice)})
    _in_order(src, effective_on)
    # a layer above may refuse (standards: a campaign's scope among the sources)
    tree_changing.send(sender=RegionChange, kind=kind, sources=[r.code for r in src], prefixes=[r.prefix for r in src])
    change = RegionChange.objects.create(kind=kind, effective_on=effective_on, basis=basis.strip(), recorded_by=by)
    detail: dict = {"basis": basis.strip()}
    if kind == ChangeKind.RENAME:
        _rename(src, targets, effective_on, detail)
        new = src
    elif kind == ChangeKind.MERGE:
        new = [_merge(src, targets, level, effective_on, change, detail)]
    elif kind == ChangeKind.SPLIT:
        new = _split(src, targets, level, effective_on, by, units or {}, officers or {}, detail)
    else:  # MOVE, RECODE: one region becomes another under a new code (and parent)
        new = [_recode(src, targets, level, effective_on, change, detail, move=kind == ChangeKind.MOVE)]
    detail.pop("basis")
    change.detail = detail
    change.save(update_fields=["detail"])
    change.sources.set(src)
    change.targets.set(new)
    audit(
        actor=by,
        action=f"region.{kind}",
        target=change,
        detail={
            "effective_on": effective_on.isoformat(),
            "sources": [r.code for r in src],
            "targets": [r.code for r in new],
            "basis": basis.strip(),
        },
    )
    if kind != ChangeKind.RENAME:  # a new tree from that day: the years from it are recounted in full
        send_after_commit(
            tree_changed,
            sender=RegionChange,
            change_id=change.pk,
            effective_on=effective_on,
            regions=sorted({r.code for r in src + new}),
        )
    return change


def _rename(src: list[Region], targets: list[Target], effective_on: dt.date, detail: dict) -> None:
    if len(src) != 1 or len(targets) != 1 or targets[0].code != src[0].code:
        _refuse("targets", _("更名只涉及一个区划，代码不变（要变更代码请用“变更代码”）。"))
    region = src[0]
    name = (targets[0].name or "").strip()
    if not name or name == region.name:
        _refuse("targets", _("请填写新的名称。"))
    last = RegionName.objects.filter(region=region).order_by("-valid_to").values_list("valid_to", flat=True).first()
    RegionName.objects.create(
        region=region,
        name=region.name,
        valid_from=last and last + dt.timedelta(days=1),
        valid_to=_day_before(effective_on),
    )
    detail["names"] = {region.code: [region.name, name]}
    region.name = name
    region.renamed_on = effective_on
    region.save(update_fields=["name", "renamed_on"])


def _merge(src, targets, level, effective_on, change, detail) -> Region:
    """Several regions become one, new or existing (one of them, or another)."""
    by = change.recorded_by
    if len(targets) != 1:
        _refuse("targets", _("撤并只有一个调整后的区划。"))
    t = targets[0]
    existing = access.visible_regions(by).filter(code=t.code).first()
    if existing is not None:
        if existing.level != level or not existing.valid_on(effective_on) or existing.valid_to is not None:
            _refuse("targets", _("“%(r)s”不能作为撤并后的区划（层级不同或已撤销）。") % {"r": existing.name})
        _existing_as_named(existing, t)
        target = existing
    elif Region.objects.filter(code=t.code).exists():
        _refuse("targets", _("区划代码 %(c)s 已存在。") % {"c": t.code})
    else:
        target = _new_region(t, level, effective_on, by)
    for r in src:
        if r.code == target.code:
            continue
        _inherit(target, r)
        _end(r, effective_on)
        _recode_subtree(r, target, effective_on, detail, change)
    return target


def _split(src, targets, level, effective_on, by, units, officers, detail) -> list[Region]:
    """One region becomes several: each of its units (townships) or children (above) to
    the target named for it; its officers to the targets named for them."""
    if len(src) != 1:
        _refuse("sources", _("拆分只涉及一个原区划。"))
    region = src[0]
    if len(targets) < 2:
        _refuse("targets", _("拆分至少得到两个区划。"))
    new = []
    for t in targets:
        existing = access.visible_regions(by).filter(code=t.code).first()
        if existing is not None and existing.code != region.code:
            if existing.level != level or existing.valid_to is not None or not existing.valid_on(effective_on):
                _refuse("targets", _("“%(r)s”不能作为拆分后的区划（层级不同或已撤销）。") % {"r": existing.name})
            _existing_as_named(existing, t)
            new.append(existing)
        elif existing is None:
            if Region.objects.filter(code=t.code).exists():
                _refuse("targets", _("区划代码 %(c)s 已存在。") % {"c": t.code})
            new.append(_new_region(t, level, effective_on, by))
        else:
            _refuse("targets", _("拆分后的区划不能沿用原区划的代码 %(c)s。") % {"c": t.code})
    by_code = {r.code: r for r in new}
    if level != Level.TOWNSHIP:
        _refuse("sources", _("目前只支持乡镇/街道的拆分；县级以上的拆分请分步记录为撤并与变更代码。"))
    people = list(User.objects.filter(region=region).values_list("username", flat=True))
    unassigned = [p for p in people if officers.get(p) not in by_code]
    if unassigned:
        _refuse(
            "officers",
            _("“%(r)s”的工作人员 %(u)s 需要指定拆分后所属的乡镇/街道。")
            % {"r": region.name, "u": "、".join(unassigned)},
        )
    units_here = list(Unit.objects.filter(township=region))
    left = [u.code for u in units_here if units.get(u.code) not in by_code]
    if left:
        _refuse(
            "units",
            _("还有 %(n)s 个单位没有指定拆分后的乡镇/街道：%(c)s") % {"n": len(left), "c": "、".join(left[:20])},
        )
    detail["units"] = {}
    for code, target in by_code.items():
        moved = [u for u in units_here if units[u.code] == code]
        detail["units"][code] = _move_units(moved, target, effective_on)
        names = [p for p in people if officers[p] == code]
        User.objects.filter(username__in=names).update(region=target)
        _forget_tokens(User.objects.filter(username__in=names))
        detail.setdefault("officers", {})[code] = names
    for target in new:
        _inherit(target, region)
    _end(region, effective_on)
    return new


def _recode(src, targets, level, effective_on, change, detail, *, move: bool) -> Region:
    """One region under a new code (a recode) or a new parent (a move, which in a tree of
    code prefixes is a new code too): a successor begins, the region ends, its subtree
    and units follow."""
    if len(src) != 1 or len(targets) != 1:
        _refuse("targets", _("变更代码或调整隶属只涉及一个区划。"))
    region, t = src[0], targets[0]
    parent_code = t.parent_code or (region.parent_id if not move else None)
    if move and (not parent_code or parent_code == region.parent_id):
        _refuse("targets", _("调整隶属须指定新的上级区划。"))
    if level != Level.PROVINCE and PARENT_LEVEL.get(level) is None:
        _refuse("sources", _("该层级不能调整。"))
    new = _new_region(Target(t.code, t.name or region.name, parent_code), level, effective_on, change.recorded_by)
    _inherit(new, region)
    _end(region, effective_on)
    _recode_subtree(region, new, effective_on, detail, change)
    return new
