from django import template

from units.models import Category, Level

register = template.Library()


@register.filter
def pct(rate):
    """0.8125 -> '81.3%' (one decimal, as officers expect)."""
    if rate is None or rate == "":
        return "—"
    return f"{float(rate) * 100:.1f}%"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def level_label(level):
    return Level(level).label if level else ""


@register.filter
def category_label(category):
    return Category(category).label if category else ""


@register.filter
def pair(first, second):
    """(first, second): `{% if a|pair:b in pairs %}` for a set of 2-tuples."""
    return (first, second)
