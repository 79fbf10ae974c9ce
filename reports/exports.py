"""The attainment table as an export (the writing is the kernel's table_response)."""

from django.utils.translation import gettext as _


def attainment_header():
    return [
        _("区划代码"),
        _("区划名称"),
        _("层级"),
        _("类别"),
        _("单位数"),
        _("达标数"),
        _("达标率(%)"),
        _("目标(%)"),
        _("是否完成"),
        _("差距(个)"),
        _("计算时间"),
    ]


def attainment_rows(rows):
    for r in rows:
        yield [
            r.region_id,
            r.region.name,
            r.get_level_display(),
            r.get_category_display(),
            r.total_units,
            r.attained_units,
            round(float(r.rate) * 100, 1),
            "" if r.target_rate is None else round(float(r.target_rate) * 100, 1),
            "" if r.met is None else (_("是") if r.met else _("否")),
            r.gap_units,
            r.computed_at.astimezone().strftime("%Y-%m-%d %H:%M") if r.computed_at else "",
        ]
