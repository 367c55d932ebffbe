"""After-delivery policy from config/lifecycle.yaml: SLA targets, escalation levels, hop limit,
the reopen window and which destination tells each channel's citizens. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from hub.core.errors import ConfigProblem
from hub.core.workhours import Calendar

FILE = "lifecycle.yaml"


@dataclass(frozen=True)
class Target:
    acknowledge_hours: float | None
    resolve_hours: float | None
    calendar: str | None = None  # a name in `calendars` (e.g. round-the-clock); the office calendar else


@dataclass(frozen=True)
class Level:
    level: int
    after: float
    notify: tuple[str, ...]


@dataclass(frozen=True)
class Breach:
    """A delivery past one of its time limits, at one escalation level."""

    delivery_id: str
    complaint_id: str
    destination: str
    kind: str  # "acknowledge" or "resolve"
    level: int
    target_hours: float
    used_hours: float
    due_at: datetime
    notify: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "complaint_id": self.complaint_id,
                "destination": self.destination, "kind": self.kind, "level": self.level,
                "target_hours": self.target_hours, "used_hours": round(self.used_hours, 2),
                "due_at": self.due_at.isoformat(), "notify": list(self.notify)}


@dataclass(frozen=True)
class Policy:
    calendar: Calendar
    default: Target
    by_rule: Mapping[str, Target] = field(default_factory=dict)
    by_destination: Mapping[str, Target] = field(default_factory=dict)
    levels: tuple[Level, ...] = ()
    hop_limit: int = 3
    reopen_window: timedelta = timedelta(days=14)
    channels: Mapping[str, str] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)  # named ones, beside `calendar`

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Policy":
        def target(t: Mapping[str, Any]) -> Target:
            return Target(t.get("acknowledge_hours"), t.get("resolve_hours"), t.get("calendar"))

        sla = doc["sla"]
        citizen = doc.get("citizen") or {}
        return cls(
            calendar=Calendar.from_config(doc["calendar"]),
            default=target(sla["default"]),
            by_rule={k: target(v) for k, v in (sla.get("rules") or {}).items()},
            by_destination={k: target(v) for k, v in (sla.get("destinations") or {}).items()},
            levels=tuple(sorted((Level(lv["level"], float(lv["after"]), tuple(lv["notify"]))
                                 for lv in doc["escalation"]["levels"]), key=lambda lv: lv.level)),
            hop_limit=int((doc.get("routing") or {}).get("hop_limit", 3)),
            reopen_window=timedelta(days=float(citizen.get("reopen_window_days", 14))),
            channels=dict(citizen.get("channels") or {}),
            calendars={name: Calendar.from_config(c) for name, c in (doc.get("calendars") or {}).items()},
        )

    def target(self, destination: str, rule_id: str | None) -> Target:
        """Destination's own limits over the rule's over the default, limit by limit."""
        layers = [self.by_destination.get(destination), self.by_rule.get(rule_id or ""), self.default]
        ack = next((t.acknowledge_hours for t in layers if t and t.acknowledge_hours), None)
        res = next((t.resolve_hours for t in layers if t and t.resolve_hours), None)
        return Target(ack, res)

    def calendar_for(self, destination: str) -> Calendar:
        """The destination's own calendar (24/7 for emergency services), else the office one."""
        own = self.by_destination.get(destination)
        return self.calendars.get(own.calendar or "", self.calendar) if own else self.calendar

    def due(self, start: datetime, hours: float, destination: str = "") -> datetime:
        return self.calendar_for(destination).add(start, hours)

    def breaches(self, delivery: Mapping[str, Any], now: datetime) -> list[Breach]:
        """Every (limit, level) this still-open delivery has passed at `now`.

        `delivery` needs id, complaint_id, destination, rule_id, state, clock_from and
        acknowledged_at. Only a running clock escalates: an acknowledgement that came late no
        longer needs chasing, a resolution that came late is no longer open.
        """
        state = delivery["state"]
        if state in ("resolved", "rejected", "transferred", "released"):
            return []
        target = self.target(delivery["destination"], delivery.get("rule_id"))
        start = delivery["clock_from"]
        calendar = self.calendar_for(delivery["destination"])
        # The clock stops while the destination waits for the citizen (needs_info).
        paused = float(delivery.get("paused_seconds") or 0)
        if delivery.get("paused_at") is not None:
            paused += calendar.working_seconds(delivery["paused_at"], now)
        used = (calendar.working_seconds(start, now) - paused) / 3600
        found: list[Breach] = []
        checks = [("resolve", target.resolve_hours)]
        if delivery.get("acknowledged_at") is None and state in ("sent", "reopened"):
            checks.insert(0, ("acknowledge", target.acknowledge_hours))
        for kind, hours in checks:
            if not hours:
                continue
            for lv in self.levels:
                if used >= hours * lv.after:
                    found.append(Breach(delivery["id"], delivery["complaint_id"], delivery["destination"],
                                        kind, lv.level, hours, used,
                                        calendar.add(start, hours * lv.after + paused / 3600), lv.notify))
        return found


def check(policy: Policy, registry: Any, rule_ids: set[str], today: date | None = None) -> list[ConfigProblem]:
    """Destinations, rules and calendars the lifecycle file names must exist; given `today`, a
    calendar that runs out within 60 days is warned about."""
    problems: list[ConfigProblem] = []
    for i, lv in enumerate(policy.levels):
        for j, dest in enumerate(lv.notify):
            if dest not in registry:
                problems.append(ConfigProblem(FILE, f"escalation.levels[{i}].notify[{j}]",
                                              f"unknown destination {dest!r}"))
    for dest in policy.by_destination:
        if dest not in registry:
            problems.append(ConfigProblem(FILE, f"sla.destinations.{dest}", f"unknown destination {dest!r}"))
    for rule in policy.by_rule:
        if rule not in rule_ids:
            problems.append(ConfigProblem(FILE, f"sla.rules.{rule}", f"unknown rule {rule!r}"))
    for channel, dest in policy.channels.items():
        if dest not in registry:
            problems.append(ConfigProblem(FILE, f"citizen.channels.{channel}", f"unknown destination {dest!r}"))
    if policy.calendar.start >= policy.calendar.end:
        problems.append(ConfigProblem(FILE, "calendar.hours", "start must be before end"))
    for dest, own in policy.by_destination.items():
        if own.calendar and own.calendar not in policy.calendars:
            problems.append(ConfigProblem(FILE, f"sla.destinations.{dest}.calendar",
                                          f"unknown calendar {own.calendar!r} (not in calendars)"))
    if today is not None:
        problems.extend(running_out(policy, today))
    return problems


def running_out(policy: Policy, today: date, within: int = 60) -> list[ConfigProblem]:
    """A warning for each calendar whose holidays end within `within` days: past that day every
    holiday and cuti bersama would count as a working day."""
    found = []
    for path, cal in [("calendar", policy.calendar), *((f"calendars.{n}", c) for n, c in policy.calendars.items())]:
        until = cal.covered_until(today)
        if until is not None and until < today + timedelta(days=within):
            days = (until - today).days
            when = f"in {days} days" if days >= 0 else f"{-days} days ago"
            found.append(ConfigProblem(FILE, f"{path}.holidays", (
                f"the calendar knows holidays and cuti bersama until {until} ({when}): add next year's "
                "dates to holidays (or set public_holidays: ID and update the holidays package)"),
                severity="warning"))
    return found
