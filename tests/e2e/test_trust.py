"""Issue 11, items 2-4: transfers only where permitted, secrets fit for production, and outbound
requests that cannot reach the hub's own networks. On the in-process bus and SQLite."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
import structlog
from fastapi.testclient import TestClient

from hub.cli.processes import workers
from hub.cli.receiver import Receiver
from hub.core import signing
from hub.http.app import create_app
from hub.infra import logs
from hub.infra.store import metadata
from hub.settings import secrets
from hub.settings.live import destination_settings
from hub.settings.runtime import Hub
from tests.harness import ROOT, key_headers, make_hub, point_webhooks_at, settled, wait_for

POWER = {"channel": "jaki", "text": "Listrik padam sejak pagi, tiang PLN roboh, NIK saya 3174051234560001",
         "location": {"kota": "Jakarta Selatan", "kecamatan": "Cilandak"}}


@pytest.fixture
def hub(tmp_path: Path, bus_prefix: str) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix)
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def client(hub: Hub) -> Iterator[tuple[TestClient, Receiver]]:
    with Receiver() as receiver, workers(hub), TestClient(create_app(hub), headers=key_headers(hub, "channel", "jaki")) as c:
        point_webhooks_at(hub, receiver)
        yield c, receiver


def callback(client: TestClient, hub: Hub, cid: str, dest: str, secret: str | None = None, **update: Any) -> Any:
    body = json.dumps({"update_id": f"u-{uuid.uuid4()}", "complaint_id": cid, "destination": dest, **update}).encode()
    key = secret or hub.config.registry.get(dest).options["callback_secret"]
    headers = {"content-type": "application/json", **signing.headers([key], f"msg_{uuid.uuid4().hex}", body)}
    return client.post(f"/v1/complaints/{cid}/status", content=body, headers=headers)


# -- 2. transfers --------------------------------------------------------------------------------

def test_an_operator_cannot_transfer_a_complaint_where_neither_rules_nor_the_allow_list_permit(
        hub: Hub, client: tuple[TestClient, Receiver]) -> None:
    c, _ = client
    admin = key_headers(hub, "admin")
    cid = c.post("/v1/complaints", json=POWER).json()["id"]
    wait_for(lambda: settled(hub, cid))
    refused = callback(c, hub, cid, "pln-uid-jakarta-raya", status="transferred", transfer_to="telkom-indonesia",
                       reason="kabel telepon")
    assert refused.status_code == 200, refused.text
    assert "telkom-indonesia" not in refused.json()["rerouted_to"], "PLN may not pass a NIK on to Telkom"
    why = [e for e in hub.store.complaint(cid)["timeline"] if e["type"] == "rerouted"][0]["why"]
    assert "telkom-indonesia may not receive this category" in why

    # An administrator allows it for electricity: now the transfer goes through.
    put = c.put("/v1/admin/transfers/electricity", json={"destinations": ["telkom-indonesia"], "reason": "MoU 2026"},
                headers=admin)
    assert put.status_code == 200 and put.json()["destinations"] == ["telkom-indonesia"]
    cid2 = c.post("/v1/complaints", json={**POWER, "external_ref": "T-2"}).json()["id"]
    wait_for(lambda: settled(hub, cid2))
    moved = callback(c, hub, cid2, "pln-uid-jakarta-raya", status="transferred", transfer_to="telkom-indonesia")
    assert moved.json()["rerouted_to"] == ["telkom-indonesia"]
    assert c.get("/v1/admin/transfers", headers=admin).json()["allow"] == {"electricity": ["telkom-indonesia"]}
    audit = c.get("/v1/admin/changes?action=transfers.allow", headers=admin).json()["changes"][0]
    assert audit["reason"] == "MoU 2026"
    bad = c.put("/v1/admin/transfers/electricity", json={"destinations": ["nowhere"], "reason": "x"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "destinations"


def test_a_rejection_may_suggest_a_government_office_but_not_another_operator(
        hub: Hub, client: tuple[TestClient, Receiver]) -> None:
    c, _ = client
    cid = c.post("/v1/complaints", json=POWER).json()["id"]
    wait_for(lambda: settled(hub, cid))
    to_operator = callback(c, hub, cid, "pln-uid-jakarta-raya", status="rejected", reason="bukan kami",
                           suggested_destination="telkom-indonesia")
    assert "telkom-indonesia" not in to_operator.json()["rerouted_to"]
    cid2 = c.post("/v1/complaints", json={**POWER, "external_ref": "T-3"}).json()["id"]
    wait_for(lambda: settled(hub, cid2))
    to_office = callback(c, hub, cid2, "pln-uid-jakarta-raya", status="rejected", reason="lampu jalan, bukan PLN",
                         suggested_destination="sudin-bina-marga-jakarta-selatan")
    assert to_office.json()["rerouted_to"] == ["sudin-bina-marga-jakarta-selatan"]


# -- 3. secrets ----------------------------------------------------------------------------------

def test_a_callback_signed_with_the_outbound_secret_or_a_replayed_delivery_is_refused(
        hub: Hub, client: tuple[TestClient, Receiver]) -> None:
    c, receiver = client
    cid = c.post("/v1/complaints", json=POWER).json()["id"]
    wait_for(lambda: settled(hub, cid))
    outbound = hub.config.registry.get("pln-uid-jakarta-raya").options["secret"]
    forged = callback(c, hub, cid, "pln-uid-jakarta-raya", secret=outbound, status="acknowledged")
    assert forged.status_code == 401
    [sent] = [r for r in receiver.received if r.path.endswith("pln-uid-jakarta-raya")]
    replay = c.post(f"/v1/complaints/{cid}/status", content=sent.body,
                    headers={k: v for k, v in sent.headers.items() if k.startswith("webhook-") or k == "content-type"})
    assert replay.status_code in (401, 422) and replay.status_code != 200
    ok = callback(c, hub, cid, "pln-uid-jakarta-raya", status="acknowledged")
    assert ok.status_code == 200, ok.text


def _start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.endswith("_SECRET") and k not in (
        secrets.ALLOW_DEV, secrets.KEY_VAR)}
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], env={**base, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_hub_refuses_to_start_on_dev_or_empty_webhook_secrets(tmp_path: Path) -> None:
    # A worker process needs a real broker (issue 15); the secrets are checked before it connects.
    env = {"LAPORHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PLN_WEBHOOK_SECRET": "",
           "LAPORHUB_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
           "PAM_JAYA_WEBHOOK_SECRET": "whsec_" + "QUJD" * 8}
    done = _start(env, "router")
    assert done.returncode == 2, done.stderr
    for dest in ("pln-uid-jakarta-raya", "transjakarta", "kai-commuter", "jaki-app"):
        assert dest in done.stderr
    assert "pam-jaya: options.secret" not in done.stderr, "a real secret is accepted"
    assert "pam-jaya: options.callback_secret is a shipped dev default" in done.stderr
    assert "LAPORHUB_SECRET_KEY" in done.stderr


def test_stored_secrets_are_sealed_and_options_are_redacted_where_shown_or_audited(
        hub: Hub, client: tuple[TestClient, Receiver]) -> None:
    c, receiver = client
    admin, auditor = key_headers(hub, "admin"), key_headers(hub, "auditor")
    doc = {"name": "Kota Open311", "kind": "operator", "adapter": "open311",
           "options": {"endpoint": f"http://crm:pw-123@127.0.0.1:{receiver.port}/open311", "api_key": "k-outbound-1"}}
    assert c.put("/v1/admin/destinations/kota-311", json={"destination": doc, "reason": "new"}, headers=admin).status_code == 200
    rotated = c.post("/v1/admin/destinations/pln-uid-jakarta-raya/rotate-secret",
                     json={"reason": "leak", "overlap_hours": 0}, headers=admin).json()
    assert rotated["old_secret_signs_until"] is None, "an overlap of zero: the old secret stops at once"
    assert hub.config.registry.get("pln-uid-jakarta-raya").options["secret"] == rotated["secret"]
    shown = json.dumps([c.get("/v1/admin/destinations/kota-311", headers=auditor).json(),
                        c.get("/v1/admin/destinations", headers=auditor).json(),
                        c.get("/v1/admin/changes", headers=auditor).json()])
    for secret in ("k-outbound-1", "pw-123", rotated["secret"]):
        assert secret not in shown
    with hub.store.engine.connect() as conn:
        stored = json.dumps([dict(r) for r in conn.execute(sa.select(destination_settings)).mappings()], default=str)
    for secret in ("k-outbound-1", "pw-123", rotated["secret"]):
        assert secret not in stored, "sealed at rest"
    assert "fernet:" in stored


def test_serve_logs_no_password_and_prints_no_admin_key(tmp_path: Path) -> None:
    from hub.cli.admin import bootstrap_admin

    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "t")
    out = io.StringIO()
    secret = bootstrap_admin(hub, out=out, path=tmp_path / "key")
    assert secret and secret not in out.getvalue() and (tmp_path / "key").read_text().strip() == secret
    assert oct((tmp_path / "key").stat().st_mode & 0o777) == "0o600"
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    access, handler = logging.getLogger("uvicorn.access"), logging.StreamHandler(stream)
    access.addHandler(handler)
    try:
        structlog.get_logger("hub.cli.processes").info(
            "serve.started", broker="amqp://hub:s3cret-pw@mq:5672//", database="postgresql://hub:db-pw@db/x",
            detail="GET /open311/v2/requests.json?api_key=lhk_abc123&x=1")
        logging.getLogger("uvicorn.access").warning("GET %s", "/open311/v2/requests.json?api_key=lhk_abc123")
    finally:
        access.removeHandler(handler)
        structlog.reset_defaults()
    written = stream.getvalue()
    assert "serve.started" in written and "hub:***@mq" in written and "GET /open311/v2/requests.json?api_key=***" in written
    for secret in ("s3cret-pw", "db-pw", "lhk_abc123"):
        assert secret not in written


# -- 4. outbound safety ----------------------------------------------------------------------------

def test_an_admin_cannot_point_a_webhook_at_the_metadata_service_and_redirects_are_not_followed(
        hub: Hub, client: tuple[TestClient, Receiver]) -> None:
    c, receiver = client
    admin = key_headers(hub, "admin")
    doc = {"name": "Evil", "kind": "operator", "adapter": "webhook", "options": {"url": "http://169.254.169.254/latest"}}
    refused = c.put("/v1/admin/destinations/evil", json={"destination": doc, "reason": "x"}, headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "options.url"

    receiver.respond = lambda r: (307, {"location": "http://127.0.0.1:9/elsewhere"})
    result = c.post("/v1/admin/destinations/pln-uid-jakarta-raya/test", headers=admin).json()
    assert result["outcome"] == "failed" and result["status"] == 307 and "redirect" in result["detail"]
    assert len(receiver.received) == 0

    receiver.respond = lambda r: (500, {})
    result = c.post("/v1/admin/destinations/pln-uid-jakarta-raya/test", headers=admin).json()
    assert result["status"] == 500 and set(result) <= {"destination", "delivery_id", "outcome", "status",
                                                        "attempts", "detail"}


def test_without_the_allowance_a_loopback_webhook_is_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAPORHUB_ALLOW_PRIVATE_TARGETS")
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "t")
    with Receiver() as receiver, workers(hub), TestClient(create_app(hub), headers=key_headers(hub, "channel", "jaki")) as c:
        point_webhooks_at(hub, receiver)
        cid = c.post("/v1/complaints", json=POWER).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
    # Emergency copies go to queues; the webhook to the loopback receiver is refused and dead-lettered.
    assert [d["status"] for d in view["deliveries"] if d["destination"] == "pln-uid-jakarta-raya"] == ["dead"]
    assert receiver.received == []
    hub.store.engine.dispose()


# -- erasure ---------------------------------------------------------------------------------------

def test_a_reporters_data_is_erased_on_request(hub: Hub, client: tuple[TestClient, Receiver]) -> None:
    c, _ = client
    admin = key_headers(hub, "admin")
    mine = {**POWER, "reporter": {"name": "Sari", "phone": "0812-2222-3333", "email": "sari@x.id"}}
    cid = c.post("/v1/complaints", json=mine).json()["id"]
    other = c.post("/v1/complaints", json={**POWER, "text": "Lampu jalan mati", "external_ref": "other",
                                            "reporter": {"name": "Tono"}}).json()["id"]
    wait_for(lambda: settled(hub, cid))
    erased = c.post("/v1/admin/erasures", json={"phone": "+62 812 2222 3333", "reason": "request PDP-7"}, headers=admin)
    assert erased.status_code == 200 and erased.json()["erased"] == [cid]
    full = c.get(f"/v1/admin/complaints/{cid}", headers=admin).json()
    with hub.store.engine.connect() as conn:
        everything = json.dumps([[dict(r) for r in conn.execute(sa.select(t)).mappings()]
                                 for t in metadata.sorted_tables], default=str)
    for gone in ("Sari", "2222", "sari@x.id", "3174051234560001"):
        assert gone not in everything, gone
    assert "reporter" not in full["complaint"] and full["timeline"][-1]["type"] == "reporter_erased"
    assert hub.store.complaint(other)["complaint"]["reporter"] == {"name": "Tono"}
    assert c.post("/v1/admin/erasures", json={"phone": "0812"}, headers=admin).status_code == 422
