"""The state machine of rectification tasks (a sanling.kernel.workflow.Machine):
open → in progress → reported (a note and evidence) → closed (销号), and reopened with a
reason from reported; closed is final (a problem found again is a new task). The responsible township works a task; only the level that
opened it verifies or reopens it. `allowed_actions(task, user)` is what the services
enforce and what the pages and the API offer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanling.kernel.workflow import Machine
from units import access
from units.models import User

from .models import Rectification, TaskStatus


def _opened_by_level_of(user, task: Rectification) -> bool:
    return access.can_verify_in(user, task.opened_region_id)


def _works(user, task: Rectification) -> bool:
    """The responsible township works its tasks; a department the tasks it leads."""
    if access.is_department_staff(user):
        return bool(user.department_id) and task.lead_department_id == user.department_id
    return access.can_work_task(user)


TASK = Machine(
    transitions={
        (TaskStatus.OPEN, "start"): TaskStatus.IN_PROGRESS,
        (TaskStatus.OPEN, "report"): TaskStatus.REPORTED,
        (TaskStatus.IN_PROGRESS, "report"): TaskStatus.REPORTED,
        (TaskStatus.REPORTED, "verify"): TaskStatus.CLOSED,
        (TaskStatus.REPORTED, "reopen"): TaskStatus.OPEN,
        # 销号 is final (对账销号): a problem found again is a new task
    },
    in_place={
        "evidence": (TaskStatus.OPEN, TaskStatus.IN_PROGRESS),
        "milestone": (TaskStatus.OPEN, TaskStatus.IN_PROGRESS),
    },
    who={
        "start": _works,
        "report": _works,
        "evidence": _works,
        "milestone": _works,
        "verify": _opened_by_level_of,
        "reopen": _opened_by_level_of,
    },
    labels={
        "start": gettext_lazy("开始整改"),
        "report": gettext_lazy("报告完成"),
        "evidence": gettext_lazy("上传整改佐证"),
        "milestone": gettext_lazy("完成进度节点"),
        "verify": gettext_lazy("验收销号"),
        "reopen": gettext_lazy("退回重整"),
    },
    refusals={
        "start": gettext_lazy("只有责任乡镇/街道或牵头部门可以开始整改。"),
        "report": gettext_lazy("只有责任乡镇/街道或牵头部门可以报告整改完成。"),
        "evidence": gettext_lazy("只有责任乡镇/街道或牵头部门可以上传整改佐证。"),
        "milestone": gettext_lazy("只有责任乡镇/街道或牵头部门可以完成进度节点。"),
        "verify": lambda t: _("只有交办单位（%(r)s）可以验收销号或退回重整。") % {"r": t.opened_region.name},
        "reopen": lambda t: _("只有交办单位（%(r)s）可以验收销号或退回重整。") % {"r": t.opened_region.name},
    },
    state_label=lambda s: TaskStatus(s).label,
    state_refusal=gettext_lazy("整改任务当前为“%(state)s”，不能“%(action)s”。"),
    in_place_refusals={
        "evidence": gettext_lazy("“%(state)s”的任务不能再上传佐证。"),
        "milestone": gettext_lazy("“%(state)s”的任务不能再更改进度节点。"),
    },
)
# the status an API client asks for -> the action that leads there
TASK_ACTION_FOR = {
    TaskStatus.IN_PROGRESS: "start",
    TaskStatus.REPORTED: "report",
    TaskStatus.CLOSED: "verify",
    TaskStatus.OPEN: "reopen",
}


def allowed_actions(task: Rectification, user: User) -> list[str]:
    if not access.can_see_region(user, task.township_id):
        return []
    return TASK.allowed(task, user)
