"""SLA clocks in working hours, and escalation exactly once per level with schedulers racing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.aftercare import scheduler
from hub.cli.receiver import Receiver
from hub.core.policy import Policy
from hub.core.workhours import Calendar
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub, point_webhooks_at, running, settled, wait_for
from tests.e2e.test_pipeline import ROADS, consume_all

JKT = ZoneInfo("Asia/Jakarta")
CAL = Calendar.from_config({"timezone": "Asia/Jakarta", "working_days": ["mon", "tue", "wed", "thu", "fri"],
                            "hours": {"start": "08:00", "end": "16:00"}, "holidays": ["2026-08-17"]})


def test_friday_afternoon_plus_six_working_hours_is_monday_before_lunch() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=JKT)
    assert CAL.add(friday, 6) == datetime(2026, 11, 30, 13, 0, tzinfo=JKT)


def test_a_public_holiday_does_not_count() -> None:
    before = datetime(2026, 8, 14, 16, 0, tzinfo=JKT)  # Friday evening; Monday 17 August is a holiday
    assert CAL.add(before, 1) == datetime(2026, 8, 18, 9, 0, tzinfo=JKT)
    assert CAL.working_seconds(before, datetime(2026, 8, 18, 9, 0, tzinfo=JKT)) == 3600


def test_nights_and_weekends_do_not_count() -> None:
    start = datetime(2026, 11, 27, 15, 0, tzinfo=JKT)
    assert CAL.working_seconds(start, datetime(2026, 11, 30, 9, 0, tzinfo=JKT)) == 2 * 3600


def test_most_specific_target_wins_and_levels_fire_in_turn(hub_config) -> None:
    policy: Policy = hub_config.policy
    assert policy.target("pln-uid-jakarta-raya", "electricity").acknowledge_hours == 2
    assert policy.target("sudin-bina-marga-jakarta-selatan", "roads").acknowledge_hours == 6
    start = datetime(2026, 11, 30, 8, 0, tzinfo=JKT)  # Monday
    d = {"id": "d-1", "complaint_id": "c-1", "destination": "sudin-bina-marga-jakarta-selatan",
         "rule_id": "roads", "state": "sent", "clock_from": start, "acknowledged_at": None}
    assert policy.breaches(d, start + timedelta(hours=5)) == []
    assert [(b.kind, b.level) for b in policy.breaches(d, start + timedelta(hours=6))] == [("acknowledge", 1)]
    later = datetime(2026, 12, 1, 12, 0, tzinfo=JKT)  # 12 working hours on
    assert [(b.kind, b.level) for b in policy.breaches(d, later)] == [("acknowledge", 1), ("acknowledge", 2)]
    assert policy.breaches({**d, "state": "acknowledged", "acknowledged_at": start}, later) == []
    assert policy.breaches({**d, "state": "resolved"}, later + timedelta(days=30)) == []


@pytest.fixture
def hub(rabbitmq_hub: Hub) -> Hub:
    return rabbitmq_hub


@pytest.mark.rabbitmq
def test_a_breach_under_a_controlled_clock_escalates_exactly_once_with_two_schedulers(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=ROADS).json()["id"]
        [d] = wait_for(lambda: settled(hub, cid))["deliveries"]
        start = datetime.fromisoformat(d["created_at"].replace("Z", "+00:00"))
        monday_8 = hub.config.policy.calendar.add(start, 0)
        not_yet = monday_8 + timedelta(hours=5)
        assert scheduler.tick(hub, not_yet, "s1") == []
        late = hub.config.policy.calendar.add(start, 6.5)
        results: dict[str, list] = {}
        barrier = threading.Barrier(2)

        def run(name: str) -> None:
            other = make_hub(hub.settings.broker_url, hub.settings.database_url, hub.settings.bus_prefix)
            barrier.wait()
            with other.bus() as bus:
                results[name] = scheduler.tick(other, late, name, bus=bus)
                results[name] += scheduler.tick(other, late + timedelta(minutes=1), name, bus=bus)
            other.store.engine.dispose()

        threads = [threading.Thread(target=run, args=(n,)) for n in ("s1", "s2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        escalated = results["s1"] + results["s2"]
        assert [(b.kind, b.level, b.destination) for b in escalated] == [
            ("acknowledge", 1, "sudin-bina-marga-jakarta-selatan")]
        wait_for(lambda: hub.store.complaint(cid) and any(
            e["type"] == "escalated" for e in hub.store.complaint(cid)["timeline"]))
        [notice] = consume_all(hub, hub.topology.department_queue("crm-supervisor"), 1)
        view = client.get(f"/v1/admin/complaints/{cid}", headers=key_headers(hub, "auditor")).json()
        public = client.get(f"/v1/complaints/{cid}").json()
        listed = client.get("/v1/admin/sla/breaches", headers=key_headers(hub, "auditor")).json()["breaches"]
    assert [(b["complaint_id"], b["kind"], b["level"]) for b in listed] == [(cid, "acknowledge", 1)]
    body = notice["body"]
    assert body["kind"] == "escalation" and body["escalation"]["level"] == 1
    assert body["escalation"]["destination"] == "sudin-bina-marga-jakarta-selatan"
    assert [e["type"] for e in view["timeline"]].count("escalated") == 1
    assert "escalated" not in [e["type"] for e in public["timeline"]]
