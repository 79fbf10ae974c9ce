"""Scoring of one assessment: raw total, 合理缺项 conversion to 100, veto.

Items that do not apply to the unit's category are reasonable omissions: the final
score is obtained ÷ the maximum of the applicable items × 100, so every category is
judged against the same pass mark. A veto item (一票否决) is met only at full score.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from standards.models import Item


@dataclass(frozen=True)
class Result:
    total: Decimal
    max_total: Decimal
    final: Decimal
    veto_failed: bool
    failed_veto_codes: tuple[str, ...]
    missing_codes: tuple[str, ...]


def applicable_items(standard, category: str):
    return Item.objects.filter(standard=standard).for_category(category).select_related("area").order_by("order", "id")


def falls_short(item, score: Decimal | None) -> bool:
    """A veto item (一票否决) is met only at full score; a missing score is 0."""
    return item.veto and (score or Decimal(0)) < item.max_score


def parse_score(raw, item) -> Decimal | None:
    """One score as typed for an item (self, reviewer or inspector): None when blank, else
    a number from 0 to the item's maximum with at most one decimal, or a ServiceError
    naming the item."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(_("%(code)s：“%(raw)s”不是数字。") % {"code": item.code, "raw": raw}) from None
    if not value.is_finite():
        raise ServiceError(_("%(code)s：“%(raw)s”不是数字。") % {"code": item.code, "raw": raw})
    if value < 0:
        raise ServiceError(_("%(code)s：得分不能小于 0。") % {"code": item.code})
    if value > item.max_score:
        raise ServiceError(
            _("%(code)s：得分 %(v)s 超过该项满分 %(max)s。")
            % {"code": item.code, "v": value, "max": f"{item.max_score.normalize():f}"}
        )
    if value.as_tuple().exponent < -1:
        raise ServiceError(_("%(code)s：得分最多保留一位小数。") % {"code": item.code})
    if item.veto and value not in (0, item.max_score):
        raise ServiceError(
            _("%(code)s 是一票否决项，只计满分（%(max)s）或 0 分，不能填 %(v)s。")
            % {"code": item.code, "max": f"{item.max_score.normalize():f}", "v": f"{value.normalize():f}"}
        )
    return value


FIGURE_MOST = Decimal("9999999999.99")


def _figure(raw, label: str, item) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise ServiceError(_("%(code)s：%(f)s“%(raw)s”不是数字。") % {"code": item.code, "f": label, "raw": raw})
    if value < 0:
        raise ServiceError(_("%(code)s：%(f)s不能为负数。") % {"code": item.code, "f": label})
    if value > FIGURE_MOST or value != value.quantize(Decimal("0.01")):
        raise ServiceError(
            _("%(code)s：%(f)s %(raw)s 超出范围或多于两位小数。") % {"code": item.code, "f": label, "raw": raw}
        )
    return value


def parse_figures(raw_num, raw_den, item) -> tuple[Decimal | None, Decimal | None]:
    """A measured item's figures as typed: both blank (not entered yet), or a numerator
    and a denominator above 0 with the numerator not above it (a share: 知晓 28 / 抽样 30)."""
    num = _figure(raw_num, item.indicator_numerator or _("分子"), item)
    den = _figure(raw_den, item.indicator_denominator or _("分母"), item)
    if num is None and den is None:
        return None, None
    if num is None or den is None:
        raise ServiceError(
            _("%(code)s：请同时填写%(n)s和%(d)s。")
            % {
                "code": item.code,
                "n": item.indicator_numerator or _("分子"),
                "d": item.indicator_denominator or _("分母"),
            }
        )
    if den == 0:
        raise ServiceError(
            _("%(code)s：%(d)s不能为 0。") % {"code": item.code, "d": item.indicator_denominator or _("分母")}
        )
    if item.indicator_unit == "%" and num > den:
        raise ServiceError(
            _("%(code)s：%(n)s %(a)s 大于%(d)s %(b)s。")
            % {
                "code": item.code,
                "n": item.indicator_numerator or _("分子"),
                "a": f"{num.normalize():f}",
                "d": item.indicator_denominator or _("分母"),
                "b": f"{den.normalize():f}",
            }
        )
    return num, den


def measure(item, numerator: Decimal, denominator: Decimal) -> tuple[Decimal, Decimal]:
    """A measured item's (value, score): the value is numerator ÷ denominator (× 100 for a
    percentage); full marks when it reaches the threshold (≥, or ≤ for a ceiling), else
    proportional (max × value ÷ threshold, or threshold ÷ value for a ceiling) or zero, as
    the item's rule says; one decimal, rounded down so a score never exceeds what was met."""
    # exact rational arithmetic, so 6 × 12 % ÷ 90 % is 0.8, not 0.7999… rounded down
    value = Fraction(numerator) / Fraction(denominator) * (100 if item.indicator_unit == "%" else 1)
    threshold = Fraction(item.indicator_threshold)
    if item.indicator_comparison == "<=":
        met, share = value <= threshold, (threshold / value if value else Fraction(1))
    elif item.indicator_comparison == "=":
        met, share = value == threshold, Fraction(0)
    else:
        met, share = value >= threshold, (value / threshold if threshold else Fraction(1))
    if met:
        score = item.max_score
    elif item.indicator_rule == "proportional":
        score = Decimal(math.floor(Fraction(item.max_score) * min(Fraction(1), share) * 10)) / 10
    else:
        score = Decimal(0)
    shown = Decimal(value.numerator) / Decimal(value.denominator)
    return shown.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), score.quantize(Decimal("0.1"))


def compute(items, scores: dict[int, Decimal | None]) -> Result:
    """items: the applicable Items; scores: item id -> effective score (None = not entered)."""
    total = Decimal(0)
    max_total = Decimal(0)
    failed = []
    missing = []
    for item in items:
        max_total += item.max_score
        s = scores.get(item.id)
        if s is None:
            missing.append(item.code)
            s = Decimal(0)
        total += s
        if falls_short(item, s):
            failed.append(item.code)
    final = (total / max_total * 100).quantize(Decimal("0.01"), ROUND_HALF_UP) if max_total else Decimal(0)
    return Result(total, max_total, final, bool(failed), tuple(failed), tuple(missing))


def rescore(assessment) -> Result:
    """Recompute and store the derived totals of an assessment from its item scores."""
    items = list(applicable_items(assessment.standard, assessment.unit.category))
    scores = {s.item_id: s.effective_score for s in assessment.scores.all()}
    result = compute(items, scores)
    assessment.total_score = result.total
    assessment.max_score = result.max_total
    assessment.final_score = result.final
    assessment.veto_failed = result.veto_failed
    assessment.save(update_fields=["total_score", "max_score", "final_score", "veto_failed", "updated_at"])
    return result
