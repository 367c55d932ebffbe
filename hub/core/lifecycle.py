"""The lifecycle of a complaint and of each of its deliveries: a pure state machine.

A delivery (one destination's copy of a complaint) moves through these states:

    sent --> acknowledged --> in_progress --> resolved --(citizen reopens)--> reopened
      \\            \\              |    ^          |                             |
       \\            \\             v    |          +--(citizen confirms)         +--> acknowledged,
        +------------+-------> needs_info                                             in_progress, ...
        |
        +--> rejected      (not our jurisdiction: the hub re-routes)
        +--> transferred   (handed to a named destination: the hub re-routes)
        +--> released      (the hub or an administrator lets this destination go)

`rejected`, `transferred` and `released` are final; `resolved` is done unless the citizen reopens
it. A complaint is done when every delivery is done (resolved or released, or passed on by a
rejection or transfer); it is then `resolved`, and `closed` once the citizen confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from hub.core.errors import LaporHubError

UPDATES = ("acknowledged", "in_progress", "needs_info", "resolved", "rejected", "transferred")
"""What a destination may report (the status-update schema's `status`)."""

DONE = frozenset({"resolved", "rejected", "transferred", "released"})
PASSED_ON = frozenset({"rejected", "transferred"})
_WORKING = ("acknowledged", "in_progress", "needs_info", "resolved", "rejected", "transferred")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "sent": (*_WORKING, "released"),
    "acknowledged": ("in_progress", "needs_info", "resolved", "rejected", "transferred", "released"),
    "in_progress": ("in_progress", "needs_info", "resolved", "rejected", "transferred", "released"),
    "needs_info": ("acknowledged", "in_progress", "needs_info", "resolved", "rejected", "transferred",
                   "released"),
    "reopened": (*_WORKING, "released"),
    "resolved": ("reopened",),
    "rejected": (),
    "transferred": (),
    "released": (),
}
"""Allowed next states per delivery state; `in_progress` and `needs_info` may repeat (progress notes)."""

COMPLAINT_STATES = ("open", "in_progress", "needs_info", "resolved", "closed", "triage")


class IllegalTransition(LaporHubError):
    """A status update that the current state does not allow; names what would be allowed."""

    def __init__(self, current: str, requested: str, allowed: tuple[str, ...], subject: str = "delivery") -> None:
        self.current = current
        self.requested = requested
        self.allowed = allowed
        self.subject = subject
        super().__init__(f"{subject} is {current!r}: cannot become {requested!r}; allowed next: "
                         f"{', '.join(allowed) or 'none (final)'}")


def allowed(state: str) -> tuple[str, ...]:
    return TRANSITIONS.get(state, ())


def transition(current: str, requested: str) -> str:
    """The new state, or IllegalTransition."""
    if requested not in allowed(current):
        raise IllegalTransition(current, requested, allowed(current))
    return requested


def is_done(state: str) -> bool:
    return state in DONE


@dataclass(frozen=True)
class Feedback:
    """What the citizen said about the latest resolution, if anything."""

    confirmed: bool = False
    reopened: bool = False


def complaint_state(delivery_states: Iterable[str], feedback: Feedback = Feedback()) -> str:
    """The complaint's state from its deliveries'.

    Open while any delivery is still working; `needs_info` when a destination waits for the
    citizen; `resolved` once each is done and at least one resolved it; `closed` once confirmed.
    A complaint whose every delivery was passed on and not yet picked up stays `open`.
    """
    states = list(delivery_states)
    if not states:
        return "open"
    active = [s for s in states if s not in DONE]
    if active:
        if "needs_info" in active:
            return "needs_info"
        if any(s in ("acknowledged", "in_progress") for s in active):
            return "in_progress"
        return "open"
    if "resolved" in states:
        return "closed" if feedback.confirmed else "resolved"
    return "closed" if all(s == "released" for s in states) else "open"


def can_confirm(state: str) -> bool:
    return state == "resolved"


def citizen_allowed(state: str) -> tuple[str, ...]:
    """What the citizen may do to the complaint in this state."""
    return ("confirm", "reopen") if state == "resolved" else ()
