"""Replies by e-mail and the e-mail destination's failures: a raw reply, posted by the city's mail
gateway, moves the complaint; unsigned or unmatched mail is refused with a reason and kept for an
administrator; an SMTP server that is down is retried on the long schedule and, when the schedule
is used up, the delivery is a dead letter carrying the server's reason."""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterator

import pytest

from hub.aftercare import inbound
from hub.core import signing
from hub.core.privacy import mask_text
from hub.pipeline import deadletter
from hub.settings.runtime import Hub
from tests.email_hub import INBOUND_SECRET, WASTE, close, email_hub
from tests.harness import key_headers, running, settled, wait_for
from tests.mailbox import Mailbox, free_port, smtp_server


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, str]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def hub(tmp_path: Path, bus_prefix: str, mail: tuple[Mailbox, str], services: tuple[str, str]) -> Iterator[Hub]:
    hub = email_hub(tmp_path, services[1], bus_prefix, mail[1], "http://hub.test", broker_url=services[0])
    yield hub
    close(hub)


def reply(to: str, body: str, sender: str = "Lurah Cilandak Timur <lurah.cilandaktimur@jakarta.go.id>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Re: [LaporHub] Aduan baru: Sampah menumpuk"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@jakarta.go.id>"
    msg.set_content(body)
    return bytes(msg)


def post(client: Any, raw: bytes, secret: str | None = INBOUND_SECRET) -> Any:
    headers = {"content-type": "message/rfc822"}
    if secret:
        headers.update(signing.headers([secret], f"msg_{uuid.uuid4().hex}", raw))
    return client.post("/v1/inbound/email", content=raw, headers=headers)


QUOTE = """
Pada Sen, 7 Des 2026 pukul 10.00 LaporHub DKI <laporhub@jakarta.go.id> menulis:
> Aduan baru: Sampah menumpuk
> - Terima aduan: http://hub.test/act/xyz
"""


def test_a_reply_moves_the_complaint_and_refused_mail_is_kept_with_its_reason(hub: Hub, mail: tuple[Mailbox, str]) -> None:
    box, _ = mail
    admin = key_headers(hub, "admin")
    with running(hub) as client:
        cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "R-1"}).json()["id"]
        wait_for(lambda: settled(hub, cid))
        [sent] = box.wait(1)
        address = sent["Reply-To"]

        # A reply without a status word is a progress note (quoted history stripped, identifiers masked).
        r = post(client, reply(address, "Kami cek besok pagi bersama RT, hubungi 0812-9999-8888." + QUOTE))
        assert r.status_code == 200, r.json()
        assert r.json()["outcome"] == "applied" and r.json()["state"] == "in_progress"
        note = [e for e in hub.store.complaint(cid)["timeline"] if e["type"] == "status_changed"][-1]
        assert note["note"] == mask_text("Kami cek besok pagi bersama RT, hubungi 0812-9999-8888.")
        assert "0812-9999-8888" not in note["note"]
        assert "Aduan baru" not in note["note"]

        # "Selesai" as the first word resolves it; the rest is the resolution note the citizen reads.
        r = post(client, reply(address, "Selesai. Sampah sudah diangkut truk pagi ini.\n\nSalam,\nBudi" + QUOTE))
        assert r.status_code == 200 and r.json()["state"] == "resolved"
        view = client.get(f"/v1/complaints/{cid}").json()
        assert view["state"] == "resolved"
        assert view["timeline"][-1]["resolution_note"] == "Sampah sudah diangkut truk pagi ini."

        # "Bukan wewenang" now breaks the lifecycle's rules: refused (409) with the reason, and kept.
        r = post(client, reply(address, "Bukan wewenang, ini urusan Sudin LH" + QUOTE))
        assert r.status_code == 409 and "cannot become 'rejected'" in r.json()["message"]

        # Unsigned, wrongly signed and unmatched mail: refused with the reason, kept for an admin.
        r = post(client, reply(address, "Selesai"), secret=None)
        assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
        assert "missing header webhook-id" in r.json()["message"]
        r = post(client, reply(address, "Selesai"), secret="whsec_" + "d3Jvbmc=")
        assert r.status_code == 401
        r = post(client, reply("balas+00000000000000000000000000000000.aaaaaaaaaa@laporhub.jakarta.go.id", "Selesai"))
        assert r.status_code == 422 and "cannot be matched to a delivery" in r.json()["message"]
        r = post(client, reply(address, QUOTE))
        assert r.status_code == 422 and "no text of its own" in r.json()["message"]

        kept = client.get("/v1/admin/inbound-mail?outcome=refused", headers=admin).json()["inbound_mail"]
        assert len(kept) == 5
        assert {k["reason"].split(":")[0] for k in kept} >= {"not signed by the mail gateway",
                                                               "the reply has no text of its own (only the quoted e-mail)"}
        assert client.get("/v1/admin/inbound-mail", headers=key_headers(hub, "channel", "web")).status_code == 403


@pytest.mark.parametrize("headers, subject", [
    ({"Auto-Submitted": "auto-replied"}, "Re: [LaporHub] Aduan baru"),
    ({"X-Autoreply": "yes"}, "Re: [LaporHub] Aduan baru"),
    ({}, "Balasan otomatis: [LaporHub] Aduan baru"),
    ({}, "Out of Office: [LaporHub] Aduan baru"),
])
def test_an_out_of_office_answer_is_not_a_reply(hub: Hub, mail: tuple[Mailbox, str], headers: dict[str, str],
                                                 subject: str) -> None:
    box, _ = mail
    with running(hub) as client:
        cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "A-1"}).json()["id"]
        wait_for(lambda: settled(hub, cid))
        raw = reply(box.wait(1)[0]["Reply-To"], "Saya sedang cuti sampai 14 Desember. Selesai cuti saya balas.")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        del msg["Subject"]
        msg["Subject"] = subject
        for k, v in headers.items():
            msg[k] = v
        r = post(client, bytes(msg))
        assert r.status_code == 422 and "an automatic message, not a reply" in r.json()["message"]
        assert hub.store.deliveries_of(cid)[0]["state"] == "sent"


def test_a_forged_reply_address_does_not_reach_the_delivery(hub: Hub, mail: tuple[Mailbox, str]) -> None:
    box, _ = mail
    with running(hub) as client:
        cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "R-2"}).json()["id"]
        wait_for(lambda: settled(hub, cid))
        address = box.wait(1)[0]["Reply-To"]
        local, domain = address.split("@")
        forged = f"{local[:-1]}{'b' if local[-1] != 'b' else 'c'}@{domain}"
        assert post(client, reply(forged, "Selesai")).status_code == 422
        assert hub.store.deliveries_of(cid)[0]["state"] == "sent"


def test_an_smtp_server_that_is_down_is_retried_then_dead_lettered_with_its_reason(tmp_path: Path, bus_prefix: str) -> None:
    # Nothing listens on this port: every try fails to connect; the schedule has two retries.
    url = f"smtp://127.0.0.1:{free_port()}"
    hub = email_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix, url, "http://hub.test",
                    webhook_schedule=(0.2, 0.2))
    try:
        with running(hub) as client:
            cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "D-1"}).json()["id"]
            view = wait_for(lambda: settled(hub, cid), timeout=30)
        [d] = view["deliveries"]
        assert d["status"] == "dead" and d["attempts"] == 3
        assert d["last_error"].startswith(f"could not send through {url}: ConnectionRefusedError")
        types = [e["type"] for e in view["timeline"]]
        assert types.count("delivery_retry_scheduled") == 2 and "delivery_failed" in types
        [letter] = deadletter.list_(hub.store, stage="dispatcher")
        assert letter["delivery_id"] == d["id"] and "ConnectionRefusedError" in letter["reason"]
    finally:
        hub.store.engine.dispose()


def test_a_mailbox_that_does_not_exist_is_a_dead_letter_at_once(hub: Hub, mail: tuple[Mailbox, str]) -> None:
    box, _ = mail
    box.refuse["kel.cilandaktimur@jakarta.go.id"] = "550 5.1.1 <kel.cilandaktimur@jakarta.go.id>: user unknown"
    with running(hub) as client:
        cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "D-2"}).json()["id"]
        [d] = wait_for(lambda: settled(hub, cid))["deliveries"]
    assert d["status"] == "dead" and "550 5.1.1" in d["last_error"] and "user unknown" in d["last_error"]


def test_erasing_the_reporter_drops_the_raw_replies_and_old_mail_is_pruned(hub: Hub, mail: tuple[Mailbox, str]) -> None:
    """A reply quotes the delivery and may add what its writer learnt about the reporter: erasure
    keeps the fact that a reply came (outcome, reason) but not the message; the scheduler forgets
    kept mail after KEEP_DAYS."""
    box, _ = mail
    admin = key_headers(hub, "admin")
    with running(hub) as client:
        cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "E-1"}).json()["id"]
        other = client.post("/v1/complaints", json={**WASTE, "external_ref": "E-2"}).json()["id"]
        wait_for(lambda: settled(hub, cid) and settled(hub, other))
        sent = box.wait(2)
        for complaint in (cid, other):
            [address] = [m["Reply-To"] for m in sent if complaint in m.get_body(("plain",)).get_content()]
            r = post(client, reply(address, "Kami sudah telepon Ibu Sari di 0812-7777-6666, besok diangkut." + QUOTE))
            assert r.status_code == 200, r.json()
        before = {m["complaint_id"]: m for m in client.get("/v1/admin/inbound-mail", headers=admin).json()["inbound_mail"]}
        assert before[cid]["size"] > 0 and before[other]["size"] > 0

        r = client.post("/v1/admin/erasures", headers=admin, json={"complaint_ids": [cid], "reason": "PDP-2026-17"})
        assert r.status_code == 200, r.json()
        after = {m["complaint_id"]: m for m in client.get("/v1/admin/inbound-mail", headers=admin).json()["inbound_mail"]}
        assert after[cid]["size"] == 0 and after[cid]["outcome"] == "applied"
        assert after[other]["size"] == before[other]["size"]  # only the erased reporter's complaint

    assert inbound.prune(hub.store, keep_days=1) == 0
    assert inbound.prune(hub.store, keep_days=0) == 2


def test_a_mail_server_down_for_a_while_delivers_each_complaint_exactly_once_when_it_is_back(
        tmp_path: Path, bus_prefix: str, services: tuple[str, str]) -> None:
    """The city's mail server is restarted (nothing listens for a few seconds): the deliveries wait
    on the long schedule and, once it answers again, every complaint's e-mail arrives once."""
    port = free_port()
    hub = email_hub(tmp_path, services[1], bus_prefix, f"smtp://127.0.0.1:{port}", "http://hub.test",
                    broker_url=services[0], webhook_schedule=(0.5, 1, 1, 2, 2, 4, 4, 8, 8))
    # The circuit opens after the failures, as it would; a 3 s cooldown (30 s by default) keeps the test short.
    hub.config.registry.update_options("kelurahan-cilandak-timur", circuit_cooldown=3)
    try:
        with running(hub) as client:
            ids = [client.post("/v1/complaints", json={**WASTE, "external_ref": f"O-{i}"}).json()["id"]
                   for i in range(5)]
            wait_for(lambda: all(any(e["type"] == "delivery_retry_scheduled"
                                     for e in hub.store.complaint(cid)["timeline"]) for cid in ids), timeout=30)
            with smtp_server(port=port) as (box, _):
                views = [wait_for(lambda cid=cid: settled(hub, cid), timeout=60) for cid in ids]
                time.sleep(1)  # a duplicate, were one coming, would arrive by now
                sent = list(box.messages)
        assert [v["deliveries"][0]["status"] for v in views] == ["delivered"] * 5
        bodies = [m.get_body(("plain",)).get_content() for m in sent]
        assert sorted(cid for cid in ids for b in bodies if cid in b) == sorted(ids), "each complaint once"
    finally:
        close(hub)
