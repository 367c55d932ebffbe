"""Calendars: public holidays and cuti bersama from the `holidays` package (Indonesia) with the
configuration adding and removing dates, a 24/7 calendar for emergency services, a warning when a
calendar runs out within 60 days, and the SLA clock stopped while a destination waits for the
citizen (needs_info)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

from hub.core.policy import Policy, running_out
from hub.core.workhours import Calendar
from tests.harness import ROOT

WIB = timezone(timedelta(hours=7))
OFFICE = {"timezone": "Asia/Jakarta", "working_days": ["mon", "tue", "wed", "thu", "fri"],
          "hours": {"start": "08:00", "end": "16:00"}, "public_holidays": "ID"}


def shipped() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "lifecycle.yaml").read_text(encoding="utf-8"))


def test_indonesian_holidays_and_cuti_bersama_come_from_the_package_for_any_year() -> None:
    cal = Calendar.from_config(OFFICE)
    assert not cal.is_working_day(date(2027, 8, 17))  # Hari Kemerdekaan, a Tuesday
    assert not cal.is_working_day(date(2026, 3, 23))  # cuti bersama Idul Fitri 2026, a Monday
    assert not cal.is_working_day(date(2028, 12, 25))
    assert cal.is_working_day(date(2027, 8, 18))


def test_the_configuration_adds_cuti_bersama_and_removes_a_date_the_package_has_wrong() -> None:
    cal = Calendar.from_config({**OFFICE, "holidays": ["2027-08-16"], "not_holidays": ["2027-08-17"]})
    assert not cal.is_working_day(date(2027, 8, 16))
    assert cal.is_working_day(date(2027, 8, 17))


def test_a_calendar_of_listed_dates_only_warns_60_days_before_it_runs_out() -> None:
    doc = shipped()
    doc["calendar"] = {k: v for k, v in OFFICE.items() if k != "public_holidays"} | {"holidays": ["2026-08-17"]}
    policy = Policy.from_config(doc)
    warned = running_out(policy, date(2026, 12, 3))
    assert [(p.path, p.severity) for p in warned] == [("calendar.holidays", "warning")]
    assert "until 2026-12-31 (in 28 days)" in warned[0].message
    assert running_out(policy, date(2026, 10, 1)) == [], "more than 60 days left"


def test_the_shipped_calendar_knows_next_years_cuti_bersama_and_does_not_warn() -> None:
    assert running_out(Policy.from_config(shipped()), date(2026, 12, 3)) == []


def test_fire_disaster_and_outages_count_every_hour_on_a_round_the_clock_calendar() -> None:
    policy = Policy.from_config(shipped())
    friday_night = datetime(2026, 12, 4, 22, 0, tzinfo=WIB)
    for dest in ("dinas-gulkarmat", "pusdalops-bpbd", "pln-uid-jakarta-raya"):
        assert policy.calendar_for(dest).add(friday_night, 1) == friday_night + timedelta(hours=1), dest
    office = policy.calendar_for("dinas-bina-marga").add(friday_night, 1)
    assert office == datetime(2026, 12, 7, 9, 0, tzinfo=WIB)  # Monday 09:00


def delivery(**extra: Any) -> dict[str, Any]:
    return {"id": "d-1", "complaint_id": "c-1", "destination": "dinas-bina-marga", "rule_id": None,
            "state": "needs_info", "acknowledged_at": datetime(2026, 12, 7, 8, 0, tzinfo=WIB),
            "clock_from": datetime(2026, 12, 7, 8, 0, tzinfo=WIB), **extra}


def test_the_sla_clock_stops_while_the_destination_waits_for_the_citizen() -> None:
    """Resolve target 56 working hours (7 days of 8). Waiting since the first hour: no breach
    however long the citizen takes; the pause's hours come off once work resumes."""
    policy = Policy.from_config(shipped())
    three_weeks_on = datetime(2026, 12, 28, 9, 0, tzinfo=WIB)
    assert policy.breaches(delivery(), three_weeks_on), "without a pause the delivery is long overdue"
    waiting = delivery(paused_at=datetime(2026, 12, 7, 9, 0, tzinfo=WIB), paused_seconds=0.0)
    assert policy.breaches(waiting, three_weeks_on) == []
    resumed = delivery(state="in_progress", paused_at=None, paused_seconds=policy.calendar.working_seconds(
        datetime(2026, 12, 7, 9, 0, tzinfo=WIB), three_weeks_on))
    assert policy.breaches(resumed, three_weeks_on) == []
    later = policy.breaches(resumed, three_weeks_on + timedelta(days=14))
    worked = 1 + policy.calendar.working_seconds(three_weeks_on, three_weeks_on + timedelta(days=14)) / 3600
    assert [b.kind for b in later] == ["resolve"] and later[0].used_hours == worked, "the hour before and the days after"
