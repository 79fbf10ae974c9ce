"""Supervision (督导): the rules, for the web pages and the API alike. Atomic,
keyword-only, audited; refusals are ServiceError (a message for the user, nothing stored),
PermissionDenied (the role may not act) or Http404 (not in the user's jurisdiction).

    inspections    planned and ad-hoc inspections, random samples and their verification
    spot_checks    the inspector's scores and conclusion
    tasks          rectification tasks and the overdue job
    notifications  in-portal notifications and mail
"""

from .actions import progress_record
from .inspections import (
    MAX_SAMPLE,
    draw,
    inspection_draw_sample,
    inspection_plan,
    inspection_update,
    pool_digest,
    sample_pool,
    sample_size,
    sample_verify,
)
from .notifications import notifications_mark_read, notify, township_officers
from .spot_checks import spot_check_record
from .tasks import (
    mark_overdue,
    task_add_evidence,
    task_for,
    task_milestone_done,
    task_open,
    task_reopen,
    task_report,
    task_start,
    task_verify,
)

__all__ = [
    "MAX_SAMPLE",
    "draw",
    "inspection_draw_sample",
    "inspection_plan",
    "inspection_update",
    "mark_overdue",
    "notifications_mark_read",
    "notify",
    "pool_digest",
    "progress_record",
    "sample_pool",
    "sample_size",
    "sample_verify",
    "spot_check_record",
    "task_add_evidence",
    "task_for",
    "task_milestone_done",
    "task_open",
    "task_reopen",
    "task_report",
    "task_start",
    "task_verify",
    "township_officers",
]
