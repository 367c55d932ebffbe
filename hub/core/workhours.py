"""Working time: SLA clocks run only on working days, within office hours, outside public holidays.

Pure: a calendar and two instants in, working seconds out; or an instant and a duration in
working hours, the deadline out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Calendar:
    timezone: ZoneInfo
    working_days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    holidays: frozenset[date]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Calendar":
        hours = doc.get("hours") or {"start": "08:00", "end": "16:00"}
        return cls(
            timezone=ZoneInfo(doc.get("timezone", "Asia/Jakarta")),
            working_days=frozenset(DAYS.index(d) for d in doc.get("working_days", DAYS[:5])),
            start=time.fromisoformat(hours["start"]),
            end=time.fromisoformat(hours["end"]),
            holidays=frozenset(date.fromisoformat(str(d)) for d in (doc.get("holidays") or [])),
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.start, self.timezone), datetime.combine(day, self.end, self.timezone))

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds between two aware instants (0 if end is not after start)."""
        if end <= start:
            return 0.0
        a, b = start.astimezone(self.timezone), end.astimezone(self.timezone)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                lo, hi = self._window(day)
                lo, hi = max(lo, a), min(hi, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `start`."""
        remaining = timedelta(hours=hours)
        current = start.astimezone(self.timezone)
        for _ in range(3660):  # ten years of days: a calendar with no working day cannot loop forever
            day = current.date()
            if self.is_working_day(day):
                lo, hi = self._window(day)
                begin = max(lo, current)
                if begin < hi:
                    if begin + remaining <= hi:
                        return begin + remaining
                    remaining -= hi - begin
            current = datetime.combine(day + timedelta(days=1), time(0), self.timezone)
        raise ValueError("the calendar has no working time in the next ten years")
