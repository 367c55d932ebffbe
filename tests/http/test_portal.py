"""The destination portal's API: a destination key sees and acts on its own deliveries only; a
webhook destination reads its endpoint's attempt log; recover re-sends exactly the failed ones."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
import yaml

import adapters
from hub.admin import destinations as destination_admin
from hub.core.errors import InvalidMessage
from hub.core.privacy import mask_text
from hub.infra.store import deliveries, iso, now
from hub.pipeline import attempts
from hub.settings import audit, files
from hub.settings.runtime import Hub
from tests.email_hub import WASTE, close, config_dir, email_hub
from tests.harness import key_headers, running, settled, wait_for
from tests.mailbox import smtp_server

PASAR_MINGGU = {**WASTE, "title": "Sampah di pasar",
                "location": {"kota": "Jakarta Selatan", "kecamatan": "Pasar Minggu", "address": "Jl. Raya Pasar Minggu 1"}}
WATER = {"channel": "jaki", "title": "Air PAM mati", "text": "Air PAM tidak mengalir sudah tiga hari, pipa ledeng bocor.",
         "location": {"kota": "Jakarta Timur"}}


@pytest.fixture
def hub(tmp_path: Path, bus_prefix: str, services: tuple[str, str]) -> Iterator[Hub]:
    with smtp_server() as (_, url):
        hub = email_hub(tmp_path, services[1], bus_prefix, url, "http://hub.test", broker_url=services[0])
        yield hub
        close(hub)


def test_a_destination_sees_and_acts_on_its_own_deliveries_only(hub: Hub) -> None:
    cilandak = key_headers(hub, "destination", "kelurahan-cilandak-timur")
    pasar = key_headers(hub, "destination", "kelurahan-pasar-minggu")
    with running(hub) as client:
        ids = [client.post("/v1/complaints", json={**WASTE, "external_ref": f"P-{i}"}).json()["id"] for i in range(2)]
        other = client.post("/v1/complaints", json={**PASAR_MINGGU, "external_ref": "P-9"}).json()["id"]
        for cid in [*ids, other]:
            wait_for(lambda: settled(hub, cid))
        # The second complaint's clock started ten days ago: it is overdue and comes first.
        with hub.store.begin() as conn:
            conn.execute(deliveries.update().where(deliveries.c.complaint_id == ids[1])
                         .values(clock_from=now() - timedelta(days=10)))

        inbox = client.get("/v1/portal/inbox", headers=cilandak).json()
        assert inbox["name"] == "Kelurahan Cilandak Timur" and inbox["adapter"] == "email"
        assert [i["complaint_id"] for i in inbox["open"]] == [ids[1], ids[0]]
        assert inbox["open"][0]["overdue"] and not inbox["open"][1]["overdue"]
        assert inbox["open"][1]["acknowledge_by"] and inbox["open"][1]["resolve_by"]
        assert [i["complaint_id"] for i in client.get("/v1/portal/inbox", headers=pasar).json()["open"]] == [other]

        # Another destination's complaint is not found (not even that it exists), read or acted on.
        assert client.get(f"/v1/portal/complaints/{other}", headers=cilandak).status_code == 404
        r = client.post(f"/v1/portal/complaints/{other}/status", json={"action": "acknowledge"}, headers=cilandak)
        assert r.status_code == 404
        assert client.get(f"/v1/portal/complaints/{ids[0]}", headers=pasar).status_code == 404
        assert client.get("/v1/portal/inbox", headers=key_headers(hub, "channel", "web")).status_code == 403

        view = client.get(f"/v1/portal/complaints/{ids[0]}", headers=cilandak).json()
        assert view["text"].endswith(mask_text("Hubungi saya 0812-3456-7890."))
        assert view["location"]["latitude"] == -6.2921
        assert view["may"] == ["acknowledge", "progress", "resolve", "not_ours", "transfer"]
        targets = {t["id"] for t in view["transfer_to"]}
        assert {"sudin-lh-jakarta-selatan", "triage", "pam-jaya"} <= targets
        assert not targets & {"kelurahan-cilandak-timur", "jaki-app", "crm-supervisor"}

        r = client.post(f"/v1/portal/complaints/{ids[0]}/status", json={"action": "acknowledge", "note": "Kami tangani."},
                        headers=cilandak)
        assert r.status_code == 200 and r.json()["state"] == "acknowledged"
        r = client.post(f"/v1/portal/complaints/{ids[0]}/status", json={"action": "acknowledge"}, headers=cilandak)
        assert r.status_code == 409 and r.json()["error"] == "illegal_transition"
        r = client.post(f"/v1/portal/complaints/{ids[0]}/status", json={"action": "resolve"}, headers=cilandak)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
        r = client.post(f"/v1/portal/complaints/{ids[0]}/status",
                        json={"action": "transfer", "transfer_to": "sekda-monitoring"}, headers=cilandak)
        assert r.status_code == 422 and "the rules allow" in r.json()["errors"][0]["reason"]
        r = client.post(f"/v1/portal/complaints/{ids[0]}/status",
                        json={"action": "transfer", "transfer_to": "sudin-lh-jakarta-selatan",
                              "reason": "Sampah liar di jalan kota, bukan lingkungan RT"}, headers=cilandak)
        assert r.status_code == 200 and r.json()["rerouted_to"] == ["sudin-lh-jakarta-selatan"]
        assert [i["complaint_id"] for i in client.get("/v1/portal/inbox", headers=cilandak).json()["open"]] == [ids[1]]


def test_a_destination_sees_only_the_reporter_fields_it_declares(hub: Hub) -> None:
    reporter = {"name": "Budi Santoso", "phone": "081298765432", "email": "budi.santoso@gmail.com"}
    cilandak = key_headers(hub, "destination", "kelurahan-cilandak-timur")  # declares none
    pasar = key_headers(hub, "destination", "kelurahan-pasar-minggu")  # declares phone
    with running(hub) as client:
        mine = client.post("/v1/complaints", json={**WASTE, "external_ref": "R-1", "reporter": reporter}).json()["id"]
        theirs = client.post("/v1/complaints", json={**PASAR_MINGGU, "external_ref": "R-2", "reporter": reporter,
                                                      "privacy": "confidential"}).json()["id"]
        secret = client.post("/v1/complaints", json={**PASAR_MINGGU, "external_ref": "R-3", "reporter": reporter,
                                                      "privacy": "anonymous"}).json()["id"]
        for cid in (mine, theirs, secret):
            wait_for(lambda: settled(hub, cid))
        view = client.get(f"/v1/portal/complaints/{mine}", headers=cilandak).json()
        assert view["reporter"] is None and view["privacy"] == "public"
        view = client.get(f"/v1/portal/complaints/{theirs}", headers=pasar).json()
        assert view["reporter"] == {"phone": "081298765432"} and view["privacy"] == "confidential"
        view = client.get(f"/v1/portal/complaints/{secret}", headers=pasar).json()
        assert view["reporter"] is None and view["privacy"] == "anonymous"
        assert "Budi" not in str(view) and "budi.santoso" not in str(view)


class Operator:
    """An operator's webhook endpoint that is down (503 with a body) until told otherwise."""

    def __init__(self) -> None:
        self.down = True
        self.ids: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = b"maintenance until 03:00 WIB" if outer.down else b'{"ok": true}'
                if not outer.down:
                    outer.ids.append(self.headers["webhook-id"])
                self.send_response(503 if outer.down else 200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pam-jaya"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_operator_reads_its_attempt_log_and_recovers_exactly_the_failed_deliveries(hub: Hub) -> None:
    operator = Operator()
    hub.config.registry.update_options("pam-jaya", url=operator.url, max_attempts=2, backoff_initial=0.01)
    pam = key_headers(hub, "destination", "pam-jaya")
    admin = key_headers(hub, "admin")
    since = iso(now() - timedelta(minutes=1))
    try:
        with running(hub) as client:
            failed = [client.post("/v1/complaints", json={**WATER, "external_ref": f"W-{i}"}).json()["id"] for i in range(3)]
            for cid in failed:
                assert wait_for(lambda: settled(hub, cid))["deliveries"][0]["status"] == "dead"
            operator.down = False
            hub.config.registry.update_options("pam-jaya", max_attempts=5)  # a loaded machine may drop one try
            ok = client.post("/v1/complaints", json={**WATER, "external_ref": "W-ok"}).json()["id"]
            okd = wait_for(lambda: settled(hub, ok))["deliveries"][0]
            assert okd["status"] == "delivered", okd["last_error"]

            endpoint = client.get("/v1/portal/endpoint", headers=pam).json()
            assert endpoint["url"] == operator.url and endpoint["adapter"] == "webhook"
            log = endpoint["attempts"]
            assert log[0]["status_code"] == 200 and log[0]["outcome"] == "delivered"
            down = [a for a in log if a["status_code"] == 503]
            assert len(down) == 6 and all(a["outcome"] == "retry" and a["detail"] == "HTTP 503" for a in down)
            # The status code and time only: the target's answer body is never stored or shown (issue 11).
            assert all(a["response"] is None for a in log) and "maintenance" not in str(endpoint)
            assert all(a["duration_ms"] is not None and a["duration_ms"] >= 0 for a in log)

            preview = client.get(f"/v1/portal/recover?since={since}", headers=pam).json()
            assert preview["count"] == 3 and preview["dead"] == 3
            assert sorted(d["complaint_id"] for d in preview["deliveries"]) == sorted(failed)
            r = client.post("/v1/portal/recover", json={"since": since, "expected": 2, "reason": "endpoint back"},
                            headers=pam)
            assert r.status_code == 409 and r.json()["error"] == "count_changed"
            assert client.post("/v1/portal/recover", json={"since": since, "expected": 3}, headers=pam).status_code == 422
            r = client.post("/v1/portal/recover", json={"since": since, "expected": 3,
                                                        "reason": "our endpoint was down for maintenance"}, headers=pam)
            assert r.status_code == 200 and r.json()["resent"] == 3
            for cid in failed:
                wait_for(lambda: settled(hub, cid) and settled(hub, cid)["deliveries"][0]["status"] == "delivered")
            # Exactly the failed ones went out again; the delivered one did not.
            delivery_of = {d["complaint_id"]: d["id"] for c in [*failed, ok] for d in hub.store.deliveries_of(c)}
            assert sorted(operator.ids) == sorted(delivery_of[c] for c in [ok, *failed])
            assert client.get(f"/v1/portal/recover?since={since}", headers=pam).json()["count"] == 0
            r = client.post("/v1/admin/destinations/pam-jaya/recover", json={"since": since, "reason": "again"},
                            headers=admin)
            assert r.status_code == 200 and r.json()["resent"] == 0
            changes = audit.changes(hub.store, target="pam-jaya")
            recovers = [c for c in changes if c["action"] == "destination.recover"]
            assert len(recovers) == 2 and any("pam-jaya" in c["actor"] for c in recovers)
            assert client.get("/v1/admin/destinations/pam-jaya/attempts", headers=admin).json()["attempts"][0]["status_code"] == 200

            # The secret rotates from the portal; the new one is shown once and signs from now on.
            r = client.post("/v1/portal/endpoint/rotate-secret", json={"reason": "yearly rotation"}, headers=pam)
            assert r.status_code == 200 and r.json()["secret"].startswith("whsec_")
            test = client.post("/v1/portal/endpoint/test", headers=pam).json()
            assert test["outcome"] == "delivered"
            assert client.get("/v1/portal/endpoint", headers=pam).json()["attempts"][0]["delivery_id"] == test["delivery_id"]
    finally:
        operator.close()


def test_recover_needs_a_time(hub: Hub) -> None:
    pam = key_headers(hub, "destination", "pam-jaya")
    with running(hub) as client:
        r = client.get("/v1/portal/recover", headers=pam)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "since"
        r = client.get("/v1/portal/recover?since=yesterday", headers=pam)
        assert r.status_code == 422 and "not an ISO 8601 time" in r.json()["errors"][0]["reason"]
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar_one() == 0


def test_an_email_destination_with_bad_options_is_named_by_field(hub: Hub, tmp_path: Path) -> None:
    with pytest.raises(InvalidMessage) as err:
        destination_admin.check_document({"id": "kel-x", "name": "Kel X", "kind": "city-office", "adapter": "email",
                                          "options": {"to": "not an address", "language": "fr"}})
    assert [e.field for e in err.value.errors] == ["options.language", "options.to"]
    # The dispatcher's own options (hub/core/options.py) are allowed on an e-mail destination too.
    ok = {"id": "kel-x", "name": "Kel X", "kind": "city-office", "adapter": "email",
          "options": {"to": "kel.x@jakarta.go.id", "concurrency": 1, "rate_per_second": 2, "circuit_cooldown": 60}}
    assert destination_admin.check_document(ok)["options"] == ok["options"]
    with pytest.raises(InvalidMessage) as err:
        destination_admin.check_document({**ok, "options": {**ok["options"], "concurrency": 0}})
    assert [e.field for e in err.value.errors] == ["options.concurrency"]
    directory = config_dir(tmp_path / "bad")
    doc = yaml.safe_load((directory / "destinations.yaml").read_text())
    doc["destinations"][-1]["options"] = {"to": "kel.pasarminggu@jakarta.go.id", "bcc": "x@y.id"}
    (directory / "destinations.yaml").write_text(yaml.safe_dump(doc))
    _, problems = files.load(directory, strict=False)
    assert [(p.path, p.message) for p in problems] == [("kelurahan-pasar-minggu.options.bcc", "is not an allowed field")]


def test_the_attempt_log_keeps_thirty_days(hub: Hub) -> None:
    with hub.store.begin() as conn:
        attempts.record(conn, "pam-jaya", "d-old", [adapters.Attempt(1, "retry", "HTTP 503", status_code=503)])
        conn.execute(attempts.endpoint_attempts.update().values(at=now() - timedelta(days=31)))
        attempts.record(conn, "pam-jaya", "d-new", [adapters.Attempt(1, "delivered", "HTTP 204", status_code=204)])
    assert attempts.prune(hub.store) == 1
    assert [a["delivery_id"] for a in attempts.log(hub.store, "pam-jaya")] == ["d-new"]
