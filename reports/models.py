"""Stored results of the roll-up. Pages and the API read these, never raw units."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from standards.models import Campaign
from units.models import Category, Level, Region


class AttainmentFigures(models.Model):
    # Derived rows, written only by the roll-up while it holds the campaign-year's
    # RollupState row (whose foreign key is enforced) locked; deleting a campaign still
    # cascades here through Django. Without a database constraint PostgreSQL skips a
    # deferred check per written row at commit (measured: 45 ms for 7,044 snapshot and
    # 7,044 history rows of the 1 M-unit demo); without an index of its own, the unique
    # constraints, which start with campaign, serve its lookups.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    year = models.PositiveIntegerField(_("年度"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    category = models.CharField(_("类别"), max_length=25, choices=Category.choices)
    total_units = models.PositiveIntegerField(_("单位数"))
    attained_units = models.PositiveIntegerField(_("达标数"))
    rate = models.DecimalField(_("达标率"), max_digits=7, decimal_places=6)
    target_rate = models.DecimalField(_("目标"), max_digits=5, decimal_places=4, null=True)
    met = models.BooleanField(_("完成目标"), null=True)
    gap_units = models.PositiveIntegerField(_("差距（单位数）"), default=0)
    # {kind: [total, attained]} — the split by unit kind, so pages need no raw-unit query.
    by_kind = models.JSONField(_("按类型"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        abstract = True


class AttainmentSnapshot(AttainmentFigures):
    """The current figures. A roll-up replaces a campaign-year's rows inside one
    transaction, so readers see the old set or the new one, never a mix."""

    class Meta:
        verbose_name = _("达标统计")
        verbose_name_plural = _("达标统计")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "year", "region", "category"], name="snapshot_unique")
        ]
        indexes = [models.Index(fields=["campaign", "year", "level", "region"], name="snapshot_level_idx")]
        ordering = ["region_id", "category"]


class AttainmentHistory(AttainmentFigures):
    """One row per day per region and category: the trend."""

    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("达标统计历史")
        verbose_name_plural = _("达标统计历史")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "year", "region", "category", "day"], name="history_unique")
        ]
        ordering = ["day"]


class RollupState(models.Model):
    """One row per campaign-year. Locked with select_for_update during a roll-up so two
    roll-ups of the same campaign and year never run at once; `dirty` records that a
    change happened whose update could not be queued (broker down) so the next run —
    at the latest the nightly one — picks it up."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    computed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    dirty = models.BooleanField(default=False)
    dirty_since = models.DateTimeField(null=True, blank=True)
    # Incremented by every write to this campaign-year's snapshot, in the same transaction;
    # the sum over all rows versions cached API answers (reports.api).
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "year"], name="rollup_state_unique")]
