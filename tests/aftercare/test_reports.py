"""The reports behind the console's city pages, the hand-offs command, the Prometheus counters
for SLA breaches and hand-offs, and `laporhub serve` running the SLA scheduler."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from hub.aftercare import handoffs
from hub.aftercare.scheduler import escalations
from hub.cli.main import main
from hub.cli.processes import workers
from hub.http.app import create_app
from hub.infra.store import deliveries
from hub.pipeline.intake import accept
from hub.pipeline.routing import route
from hub.settings.runtime import Hub
from tests.city_seed import seed
from tests.harness import key_headers, make_hub, wait_for

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
SECTOR = {"pam-jaya": "state-owned", "pln-uid-jakarta-raya": "state-owned"}.get


def hop(cid: str, frm: str, to: list[str], hours: float, days: float = 0, kind: str = "rejected") -> dict[str, Any]:
    return {"complaint_id": cid, "from_destination": frm, "to_destinations": to, "kind": kind, "category": "water",
            "held_seconds": hours * 3600, "at": T0 + timedelta(days=days)}


def test_hand_offs_are_summed_per_border_with_the_complaints_behind_each_number() -> None:
    rows = [hop("c1", "pam-jaya", ["sudin-sda-jakarta-timur"], 10), hop("c2", "pam-jaya", ["sudin-sda-jakarta-timur"], 30),
            hop("c3", "sudin-sda-jakarta-timur", ["pam-jaya"], 5, days=8, kind="transferred"),
            hop("c4", "dinas-sda", ["sudin-sda-jakarta-timur"], 2)]
    doc = handoffs.summarise(rows, lambda d: SECTOR(d) or "government")
    borders = {b["border"]: b for b in doc["by_border"]}
    assert borders["state-owned → government"]["hops"] == 2
    assert borders["state-owned → government"]["median_hours_lost"] == 20.0
    assert borders["state-owned → government"]["total_hours_lost"] == 40.0
    assert borders["state-owned → government"]["complaints"] == ["c1", "c2"]
    assert borders["government → government"]["crosses"] is False
    assert doc["by_border"][0]["border"] == "state-owned → government"  # most hours lost first
    assert [(w["week"], w["border"], w["hops"]) for w in doc["weekly"]] == [
        ("2026-W10", "government → government", 1), ("2026-W10", "state-owned → government", 2),
        ("2026-W11", "government → state-owned", 1)]


def test_the_sankey_has_no_cycle_even_when_complaints_bounce_back() -> None:
    rows = [hop("c1", "pam-jaya", ["sudin-sda-jakarta-timur"], 1), hop("c1", "sudin-sda-jakarta-timur", ["pam-jaya"], 1)]
    sankey = handoffs.summarise(rows, lambda d: SECTOR(d) or "government")["sankey"]
    depth = {n["name"]: n["depth"] for n in sankey["nodes"]}
    assert all(depth[link["source"]] + 1 == depth[link["target"]] for link in sankey["links"])
    assert sum(link["value"] for link in sankey["links"] if depth[link["source"]] == 0) == 2


def test_the_csv_has_a_row_per_pair_with_sectors_and_complaint_ids() -> None:
    doc = handoffs.summarise([hop("c1", "pam-jaya", ["dinas-sda"], 4), hop("c2", "pam-jaya", ["dinas-sda"], 2)],
                             lambda d: SECTOR(d) or "government")
    rows = list(csv.DictReader(io.StringIO(handoffs.to_csv(doc))))
    assert rows == [{"from": "pam-jaya", "from_sector": "state-owned", "to": "dinas-sda", "to_sector": "government",
                     "hops": "2", "rejected": "2", "transferred": "0", "median_hours_lost": "3.0",
                     "total_hours_lost": "6.0", "complaints": "c1 c2"}]


@pytest.mark.parametrize("value, expected", [("7d", T0 - timedelta(days=7)), ("12h", T0 - timedelta(hours=12)),
                                             ("2026-03-01", datetime(2026, 3, 1, tzinfo=timezone.utc)), (None, None)])
def test_since_is_a_date_a_time_or_a_span_back(value: str | None, expected: datetime | None) -> None:
    assert handoffs.parse_since(value, T0) == expected


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Hub, dict[str, Any], Path]:
    db = tmp_path / "city.db"
    monkeypatch.setenv("LAPORHUB_DATABASE_URL", f"sqlite:///{db}")
    hub = make_hub("memory://", f"sqlite:///{db}", "cityreports")
    return hub, seed(hub, days=7, per_day=5), db


@pytest.mark.linking
def test_report_handoffs_since_prints_a_table_and_a_csv(seeded: Any, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.infra.logs.configure", lambda *_, **__: None)  # keep structlog off capsys's stream
    hub, made, _ = seeded
    assert main(["report", "handoffs", "--since", "30d", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {c for r in rows for c in r["complaints"].split()} == set(made["handoffs"])
    assert {r["from_sector"] for r in rows} >= {"state-owned"}
    assert main(["report", "handoffs", "--since", "30d"]) == 0
    assert "state-owned → government" in capsys.readouterr().out
    assert main(["report", "handoffs", "--since", "last week"]) == 2
    assert "--since" in capsys.readouterr().err


@pytest.mark.linking
def test_the_report_endpoints_agree_with_the_store_and_name_bad_queries(seeded: Any) -> None:
    hub, made, _ = seeded
    with TestClient(create_app(hub)) as client:
        admin = key_headers(hub, "admin")
        overview = client.get("/v1/admin/reports/overview?since=30d", headers=admin).json()
        assert overview["totals"]["complaints"] == len(made["complaints"]) + len(made["duplicates"])
        assert overview["totals"]["duplicates"] == 3
        assert sum(k["open"] for k in overview["by_kecamatan"]) <= overview["totals"]["open"]
        [flood] = overview["incidents"]
        assert flood["category"] == "drainage-flooding" and flood["count"] >= 5
        assert set(flood["complaints"]) <= set(made["incident"]) and flood["centre"] is not None
        sla = client.get("/v1/admin/reports/sla", headers=admin).json()
        with hub.store.engine.connect() as conn:
            late = conn.execute(sa.select(sa.func.count(escalations.c.delivery_id.distinct()))).scalar_one()
        assert sla["total"]["breaches"] == late > 0
        assert sla["breaches"] == sorted(sla["breaches"], key=lambda b: -b["hours_overdue"])
        bad = client.get("/v1/admin/reports/handoffs?since=soon", headers=admin)
        assert bad.status_code == 422 and bad.json()["errors"] == [{"field": "since", "reason": bad.json()["errors"][0]["reason"]}]
        assert client.get("/v1/admin/reports/handoffs?format=xml", headers=admin).status_code == 422
        assert client.get("/v1/admin/reports/overview", headers=key_headers(hub, "channel", "jaki")).status_code == 403
        geo = client.get("/admin/boundaries/kecamatan.geojson")
        assert geo.status_code == 200 and len(geo.json()["features"]) == 44


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_serve_runs_the_sla_scheduler_and_counts_breaches_by_destination(tmp_path: Path) -> None:
    hub = make_hub("memory://", f"sqlite:///{tmp_path / 'serve.db'}", "serve")
    cid = accept(hub.store, {"channel": "jaki", "text": "Listrik padam sejak pagi di rumah kami, belum ada petugas PLN",
                             "location": {"kota": "Jakarta Pusat"}}).complaint_id
    route(hub, cid)
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    with hub.store.begin() as conn:
        conn.execute(deliveries.update().where(deliveries.c.complaint_id == cid).values(
            status="delivered", delivered_at=long_ago, created_at=long_ago, clock_from=long_ago))
    before = metric("laporhub_sla_breaches_total", destination="pln-uid-jakarta-raya", limit="acknowledge", level="1")
    with workers(hub, sla_interval=0.2):
        wait_for(lambda: hub.store.complaint(cid) and any(e["type"] == "escalated" for e in hub.store.complaint(cid)["timeline"]))
    assert metric("laporhub_sla_breaches_total", destination="pln-uid-jakarta-raya", limit="acknowledge", level="1") == before + 1
    with workers(hub):  # without the interval, no scheduler thread
        pass


def test_serve_has_a_flag_to_leave_the_scheduler_to_another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("hub.infra.logs.configure", lambda *_, **__: None)
    monkeypatch.setattr("hub.cli.main.serve", lambda hub, host, port, sla_interval: seen.update(interval=sla_interval))
    monkeypatch.setattr("hub.cli.main.bootstrap_admin", lambda hub, **_: None)
    monkeypatch.setenv("LAPORHUB_DATABASE_URL", "sqlite://")
    assert main(["serve", "--port", "0"]) == 0 and seen["interval"] == 60.0
    assert main(["serve", "--port", "0", "--no-scheduler"]) == 0 and seen["interval"] is None
