"""The tree of incident kinds, read from IncidentKindNode (data). `subtree(codes)` is
what a campaign's zero-kinds cover: each named node and everything under it."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "incident-kinds.json"


def shipped_tree() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))["tree"]


def load_tree(node_model=None) -> int:
    """Create the shipped nodes that are missing (parents first); returns how many."""
    if node_model is None:
        from .models import IncidentKindNode as node_model
    have = set(node_model.objects.values_list("code", flat=True))
    n = 0
    for order, row in enumerate(shipped_tree()):
        if row["code"] in have:
            continue
        node_model.objects.create(code=row["code"], parent_id=row["parent"], order=order)
        n += 1
    return n


TREE_KEY = "standards:kind-tree"


def parents() -> dict[str, str | None]:
    """The kind tree (code → parent), read once and cached: a list of incidents asks it
    per row. Any write to the tree clears it (standards.receivers); 60 s bounds a
    per-process cache's staleness elsewhere."""
    from django.core.cache import cache

    from .models import IncidentKindNode

    tree = cache.get(TREE_KEY)
    if tree is None:
        tree = dict(IncidentKindNode.objects.values_list("code", "parent_id"))
        cache.set(TREE_KEY, tree, 60)
    return tree


def forget_tree(**kwargs) -> None:
    from django.core.cache import cache

    cache.delete(TREE_KEY)


def subtree(codes, tree: dict[str, str | None] | None = None) -> set[str]:
    """The codes named and every code below them."""
    tree = parents() if tree is None else tree
    wanted = set(codes or [])
    out = set()
    for code in tree:
        c: str | None = code
        while c is not None:
            if c in wanted:
                out.add(code)
                break
            c = tree.get(c)
    return out
