"""A state machine, as data: its transitions — (state, action) → new state — the actions
that change no state but are allowed only in some states (editing), and who may take each
action: a predicate of the user and the object (roles, and for some actions the object's
own facts, such as which level opened a task). Each app defines its machines with it; the
services call require(), and pages, templates and the API show allowed(). An object's
state is its `status`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .errors import ServiceError

Predicate = Callable[[Any, Any], bool]  # (user, obj) -> may act


def role(predicate: Callable[[Any], bool]) -> Predicate:
    """A predicate of the user alone, as a machine's `who` entry."""
    return lambda user, obj: predicate(user)


@dataclass(frozen=True)
class Machine:
    transitions: dict[tuple[str, str], str]
    # actions that change no state but are allowed only in some states (editing)
    in_place: dict[str, tuple[str, ...]]
    who: dict[str, Predicate]
    labels: dict[str, str]
    # why the user may not: a message, or a function of the object giving one
    refusals: dict[str, str | Callable[[Any], str]]
    state_label: Callable[[str], str]
    # a move the state does not allow: the message, with %(state)s and %(action)s; and
    # for an in-place action, its own message if it has one
    state_refusal: str = ""
    in_place_refusals: dict[str, str] = field(default_factory=dict)

    def actions_from(self, state: str) -> list[str]:
        moves = [a for (s, a) in self.transitions if s == state]
        return moves + [a for a, states in self.in_place.items() if state in states]

    def allowed(self, obj, user) -> list[str]:
        return [a for a in self.actions_from(obj.status) if self.who[a](user, obj)]

    def require_role(self, obj, action: str, user) -> None:
        """Only who may take the action (PermissionDenied), for services that check
        something else — a version, a reason — before the state."""
        if not self.who[action](user, obj):
            why = self.refusals[action]
            raise PermissionDenied(str(why(obj) if callable(why) else why))

    def require(self, obj, action: str, user) -> str:
        """The state after `action`, or a refusal: PermissionDenied when the user may not
        take it on this object, ServiceError when its state does not allow it now.
        In-place actions return the state unchanged."""
        self.require_role(obj, action, user)
        state = obj.status
        if action in self.in_place:
            if state not in self.in_place[action]:
                message = self.in_place_refusals.get(action) or _("当前状态为“%(state)s”，不能%(action)s。")
                raise ServiceError(message % {"state": self.state_label(state), "action": self.labels[action]})
            return state
        to = self.transitions.get((state, action))
        if to is None:
            message = self.state_refusal or _("当前状态为“%(state)s”，不能执行“%(action)s”。")
            raise ServiceError(message % {"state": self.state_label(state), "action": self.labels[action]})
        return to
