"""Delivery adapters: how a complaint reaches a destination.

An adapter is a class registered in the `laporhub.adapters` entry-point group. The dispatcher
makes one per destination and calls `deliver` with a validated delivery message. Third parties
ship their own by declaring, in their package metadata:

    [project.entry-points."laporhub.adapters"]
    mycrm = "mypackage.adapter:MyCrmAdapter"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Protocol

import requests

from hub.core.errors import AdapterNotFound, DeliveryFailed

if TYPE_CHECKING:
    from hub.core.actions import Links
    from hub.core.destinations import Destination
    from hub.core.policy import Policy
    from hub.infra.bus import Bus
    from hub.settings.environment import Settings

GROUP = "laporhub.adapters"


@dataclass(frozen=True)
class Attempt:
    """One try at delivering, as recorded in the complaint's timeline."""

    number: int
    outcome: str  # "delivered", "retry", "failed"
    detail: str
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    # For an endpoint's attempt log (HTTP adapters): the answer's status, time taken, first bytes.
    status_code: int | None = None
    duration_ms: float | None = None
    response: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"attempt": self.number, "outcome": self.outcome, "detail": self.detail, "at": self.at}


@dataclass
class Receipt:
    attempts: list[Attempt]
    detail: str = ""
    remote_ref: str | None = None  # the destination's own id for what it received, if it gives one


def message_id(message: Mapping[str, Any]) -> str:
    """The id a receiver deduplicates on: a delivery's delivery_id (with the send number when it
    is sent again after a reopen or a return), a notice's notice_id."""
    if message.get("delivery_id"):
        send = (message.get("handoff") or {}).get("send")
        return f"{message['delivery_id']}.{send}" if send else message["delivery_id"]
    return message["notice_id"]


class Failed(DeliveryFailed):
    """DeliveryFailed carrying the attempts made."""

    def __init__(self, reason: str, attempts: list[Attempt], *, retryable: bool = False,
                 retry_after: float | None = None, gone: bool = False) -> None:
        super().__init__(reason, retryable=retryable, retry_after=retry_after)
        self.attempts = attempts
        self.gone = gone  # the endpoint said it no longer exists (HTTP 410): stop sending to it


@dataclass
class Context:
    """What an adapter may use: the dispatcher's bus connection, the hub's settings, and how to
    open an HTTP session (tests hand in one whose transport answers without a network); for
    adapters that write to people (e-mail), the action-link signer, the SLA policy (deadlines)
    and the categories' names."""

    bus: "Bus"
    settings: "Settings"
    http: Callable[[], requests.Session] = requests.Session
    links: "Links | None" = None
    policy: "Policy | None" = None
    category_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class Adapter(Protocol):
    name: ClassVar[str]
    # JSON Schema of the adapter's own `options` (hub/core/options.py adds the dispatcher's).
    options_schema: ClassVar[dict[str, Any]]

    def __init__(self, destination: "Destination", context: Context) -> None: ...

    def deliver(self, delivery: Mapping[str, Any]) -> Receipt:
        """Deliver or raise `Failed` (with the attempts made) once trying again cannot help."""

    def close(self) -> None: ...


def available() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> type[Adapter]:
    eps = available()
    if name not in eps:
        raise AdapterNotFound(name, list(eps))
    return eps[name].load()
