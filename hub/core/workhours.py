"""Working time: SLA clocks run only on working days, within office hours, outside public holidays
(or around the clock, for emergency services).

Pure: a calendar and two instants in, working seconds out; or an instant and a duration in
working hours, the deadline out. Public holidays come from the `holidays` package (Indonesia's
national holidays and the government's cuti bersama, every year); the configuration adds dates
the package does not have yet (`holidays`) and removes ones it has wrong (`not_holidays`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import holidays as holiday_data

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# National holidays, and the collective leave (cuti bersama) the government adds around them.
CATEGORIES = ("public", "government")


@dataclass(frozen=True)
class Calendar:
    timezone: ZoneInfo
    working_days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    holidays: frozenset[date]  # added by the configuration
    always: bool = False  # 24/7: every second counts (fire, disaster, outages)
    country: str | None = None  # the `holidays` package's calendar, e.g. "ID"
    not_holidays: frozenset[date] = frozenset()
    _public: Any = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Calendar":
        zone = ZoneInfo(doc.get("timezone", "Asia/Jakarta"))
        if doc.get("always"):
            return cls(zone, frozenset(range(7)), time(0), time(0), frozenset(), always=True)
        hours = doc.get("hours") or {"start": "08:00", "end": "16:00"}
        country = doc.get("public_holidays")
        return cls(
            timezone=zone,
            working_days=frozenset(DAYS.index(d) for d in doc.get("working_days", DAYS[:5])),
            start=time.fromisoformat(hours["start"]),
            end=time.fromisoformat(hours["end"]),
            holidays=frozenset(date.fromisoformat(str(d)) for d in (doc.get("holidays") or [])),
            country=country,
            not_holidays=frozenset(date.fromisoformat(str(d)) for d in (doc.get("not_holidays") or [])),
            _public=holiday_data.country_holidays(country, categories=CATEGORIES) if country else None,
        )

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.working_days or day in self.holidays:
            return False
        return self._public is None or day in self.not_holidays or day not in self._public

    def covered_until(self, today: date) -> date | None:
        """The last day whose holidays the calendar knows: the end of the last year (from
        `today`'s on) in which the package or the configuration names any cuti bersama or holiday.
        None for a 24/7 calendar, which has none to know."""
        if self.always:
            return None
        years = {d.year for d in self.holidays}
        if self.country:
            kinds = holiday_data.country_holidays(self.country).supported_categories
            if "government" not in kinds:  # no cuti bersama to wait for: the package computes every year
                return date(today.year + 5, 12, 31)
            year = today.year
            while year <= today.year + 5 and holiday_data.country_holidays(
                    self.country, years=year, categories=("government",)):
                years.add(year)
                year += 1
        return date(max(years), 12, 31) if years else date(today.year - 1, 12, 31)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.start, self.timezone), datetime.combine(day, self.end, self.timezone))

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds between two aware instants (0 if end is not after start)."""
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds()
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
        if self.always:
            return start + timedelta(hours=hours)
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
