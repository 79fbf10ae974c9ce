"""The state machines of assessments and incidents, each defined once (a
sanling.kernel.workflow.Machine). `allowed_actions(obj, user)` is what the services
enforce, what the API reports and what the pages and templates offer: there is no second
list of buttons, statuses or roles anywhere else."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

from sanling.kernel.workflow import Machine, role
from units import access
from units.models import Level, User

from .models import Assessment, Incident, IncidentStatus, Status

# --- assessments -------------------------------------------------------------------
# draft → submitted → (each level of the campaign's review chain in turn: an approval at
# a level below the last passes it up, the state stays submitted) → approved at the last
# level; any level may return it to the township (with a reason) → submitted again …
# approved → overturned by a spot check, or returned by the last level. An upheld appeal
# (申诉) re-opens an approved, returned or overturned assessment for review.


def _reviewer(user, a) -> bool:
    return access.can_review_at(user, a.deciding_level)


def _waiting_for(a) -> str:
    return gettext("该自评现在由%(level)s审核，您所在层级不能越级审核或退回。") % {
        "level": Level(a.deciding_level).label
    }


ASSESSMENT = Machine(
    transitions={
        (Status.DRAFT, "submit"): Status.SUBMITTED,
        (Status.RETURNED, "submit"): Status.SUBMITTED,
        (Status.SUBMITTED, "approve"): Status.APPROVED,
        (Status.SUBMITTED, "return"): Status.RETURNED,
        (Status.APPROVED, "overturn"): Status.OVERTURNED,
        (Status.APPROVED, "return"): Status.RETURNED,
        (Status.APPROVED, "reopen"): Status.SUBMITTED,
        (Status.RETURNED, "reopen"): Status.SUBMITTED,
        (Status.OVERTURNED, "reopen"): Status.SUBMITTED,
    },
    in_place={
        "edit": (Status.DRAFT, Status.RETURNED),  # self-scores, notes, evidence
        "adjust": (Status.SUBMITTED,),  # the deciding level's scores beside them
    },
    who={
        "submit": role(access.can_self_assess),
        "edit": role(access.can_self_assess),
        "approve": _reviewer,
        "return": _reviewer,
        "adjust": _reviewer,
        "overturn": role(access.can_inspect),
        "reopen": lambda user, a: access.acts_for_campaign(user, a.campaign.scope_id),
    },
    labels={
        "submit": gettext_lazy("提交"),
        "approve": gettext_lazy("审核通过"),
        "return": gettext_lazy("退回"),
        "overturn": gettext_lazy("抽查否定"),
        "edit": gettext_lazy("修改自评"),
        "adjust": gettext_lazy("调整审核分"),
        "reopen": gettext_lazy("申诉复核"),
    },
    refusals={
        "submit": gettext_lazy("只有乡镇/街道工作人员可以提交自评。"),
        "edit": gettext_lazy("只有乡镇/街道工作人员可以填报自评。"),
        "approve": _waiting_for,
        "return": _waiting_for,
        "adjust": _waiting_for,
        "overturn": gettext_lazy("只有检查人员可以抽查否定。"),
        "reopen": gettext_lazy("只有创建活动所在层级可以因申诉重新审核。"),
    },
    state_label=lambda s: Status(s).label,
    in_place_refusals={
        "edit": gettext_lazy("“%(state)s”状态的自评不能修改；已审核通过的自评只有退回后才能修改。"),
        "adjust": gettext_lazy("只能在审核时调整得分。"),
    },
)


def assessment_actions(assessment, user: User) -> list[str]:
    """What `user` may do to this assessment now (nothing outside their jurisdiction)."""
    if not access.can_see_region(user, assessment.unit.township_id) or assessment.derived_from_id:
        return []  # a carried-over assessment changes only with the one it comes from
    return ASSESSMENT.allowed(assessment, user)


# --- incidents ---------------------------------------------------------------------
# recorded → confirmed or dismissed (with a reason); a confirmed incident may still be
# dismissed when found untrue; a dismissal is final (a new fact is a new incident).

INCIDENT = Machine(
    transitions={
        (IncidentStatus.RECORDED, "confirm"): IncidentStatus.CONFIRMED,
        (IncidentStatus.RECORDED, "dismiss"): IncidentStatus.DISMISSED,
        (IncidentStatus.CONFIRMED, "dismiss"): IncidentStatus.DISMISSED,
    },
    in_place={},
    who={"confirm": role(access.can_judge_incident), "dismiss": role(access.can_judge_incident)},
    labels={"confirm": gettext_lazy("确认"), "dismiss": gettext_lazy("排除")},
    refusals={
        "confirm": gettext_lazy("只有县级审核人员可以确认或排除事件。"),
        "dismiss": gettext_lazy("只有县级审核人员可以确认或排除事件。"),
    },
    state_label=lambda s: IncidentStatus(s).label,
)
# the status an API client asks for -> the action that leads there
INCIDENT_ACTION_FOR = {IncidentStatus.CONFIRMED: "confirm", IncidentStatus.DISMISSED: "dismiss"}


def incident_actions(incident, user: User) -> list[str]:
    """The state machine's actions, and the outcomes a petition or a dispute may get
    (`refer_up`: only a higher level can decide it; `resolve`: the dispute's resolution),
    as inspections.incidents checks them."""
    if not access.can_see_region(user, incident.unit.township_id):
        return []
    out = INCIDENT.allowed(incident, user)
    if incident.status != IncidentStatus.DISMISSED:
        from standards import kinds

        if (
            access.can_judge_incident(user)
            and not incident.higher_level
            and incident.kind in kinds.subtree(["petition"])
        ):
            out.append("refer_up")
        if (access.is_township_officer(user) or access.can_judge_incident(user)) and incident.kind in kinds.subtree(
            ["dispute"]
        ):
            out.append("resolve")
    return out


def allowed_actions(obj, user: User) -> list[str]:
    """The actions of an assessment or an incident that `user` may take now."""
    if isinstance(obj, Assessment):
        return assessment_actions(obj, user)
    if isinstance(obj, Incident):
        return incident_actions(obj, user)
    raise TypeError(f"no state machine for {type(obj).__name__}")
