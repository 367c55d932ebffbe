"""A kelurahan office with only an e-mail address, end to end in a real browser (Debian's Chromium
via Playwright) and a real SMTP server (aiosmtpd): the complaint arrives by e-mail, a link in the
received message is opened and acted on, the complaint's state changes and the citizen's channel
hears it; changed, expired and used links get a page that says why."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.cli.processes import ApiServer, workers
from hub.cli.receiver import Receiver
from hub.core.actions import Links
from hub.core.privacy import mask_text
from hub.pipeline.context import links as hub_links
from tests.browser import Shots
from tests.email_hub import WASTE, email_hub
from tests.harness import key_headers, point_webhooks_at, settled, wait_for
from tests.mailbox import free_port, smtp_server

pytestmark = pytest.mark.browser

shoot = Shots("email")


def link(text: str, label: str) -> str:
    return re.search(rf"- {label}: (http\S+)", text).group(1)


def citizen_heard(receiver: Receiver) -> list[str]:
    return [r.json["event"]["kind"] for r in receiver.received if r.path.endswith("/jaki-app") and r.verified]


def test_a_kelurahan_acts_on_an_emailed_complaint_from_its_links(tmp_path: Path, bus_prefix: str, browser: Any) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp_server() as (box, smtp_url), Receiver() as receiver:
        hub = email_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix, smtp_url, base)
        point_webhooks_at(hub, receiver)
        jaki = key_headers(hub, "channel", "jaki")
        api = ApiServer(hub, port=port).start()
        try:
            with workers(hub):
                cid = requests.post(f"{base}/v1/complaints", json={**WASTE, "external_ref": "JAKI-1"},
                                    headers=jaki, timeout=10).json()["id"]
                view = wait_for(lambda: settled(hub, cid))
                assert [(d["destination"], d["status"]) for d in view["deliveries"]] == [
                    ("kelurahan-cilandak-timur", "delivered")]
                [mail] = box.wait(1)
                text = mail.get_body(("plain",)).get_content()
                assert box.envelopes[0].rcpt_tos == ["kel.cilandaktimur@jakarta.go.id"]
                assert "0812-3456-7890" not in text and mask_text("0812-3456-7890") in text

                # The acknowledge link, opened in the browser: the page shows the complaint (masked)
                # and does nothing until the recipient confirms (mail scanners open links too).
                page = browser.new_page(viewport={"width": 1000, "height": 800})
                ack = link(text, "Terima aduan")
                page.goto(ack)
                assert "Sampah menumpuk di pinggir jalan" in page.inner_text("main")
                assert mask_text("0812-3456-7890") in page.inner_text("main") and "0812-3456-7890" not in page.content()
                assert hub.store.deliveries_of(cid)[0]["state"] == "sent"
                shoot(page, "action-acknowledge")
                page.fill("#note", "Petugas kebersihan kami kirim besok pagi.")
                page.click("#submit")
                page.wait_for_selector("#done")
                assert page.get_attribute("#done", "data-state") == "acknowledged"
                assert hub.store.deliveries_of(cid)[0]["state"] == "acknowledged"
                assert hub.store.complaint(cid)["state"] == "in_progress"
                wait_for(lambda: "acknowledged" in citizen_heard(receiver))
                shoot(page, "action-done")

                # The page offers what may come next; progress needs a note, and a photo link must be http(s).
                page.click("a[data-action=progress]")
                page.wait_for_selector("#action-form")
                page.fill("#note", "Truk sampah dijadwalkan.")
                page.fill("#photo_url", "javascript:alert(1)")
                page.click("#submit")
                page.wait_for_selector("#form-errors")
                assert "photo_url: must be an http:// or https:// link" in page.inner_text("#form-errors")
                page.fill("#photo_url", "https://foto.example/truk.jpg")
                page.click("#submit")
                page.wait_for_selector("#done")
                assert hub.store.deliveries_of(cid)[0]["state"] == "in_progress"

                # A used link says so, and when.
                response = page.goto(ack)
                assert response.status == 410
                assert page.get_attribute("#refused", "data-why") == "used"
                assert "sudah dipakai" in page.inner_text("#refused")
                shoot(page, "refused-used")

                # A changed link is refused as not valid.
                token = ack.rsplit("/", 1)[1]
                tampered = ack[: -len(token)] + token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
                response = page.goto(tampered)
                assert response.status == 403 and page.get_attribute("#refused", "data-why") == "tampered"
                assert "changed" in page.inner_text("#refused")
                shoot(page, "refused-tampered")

                # A link signed 31 days ago (links work for 30) has expired.
                real = hub_links(hub)
                old = Links(real.secret, base, real.max_age, clock=lambda: time.time() - 31 * 86400)
                delivery_id = hub.store.deliveries_of(cid)[0]["id"]
                response = page.goto(old.url(old.token(delivery_id, cid, "kelurahan-cilandak-timur", "resolve")))
                assert response.status == 410 and page.get_attribute("#refused", "data-why") == "expired"
                assert "expired" in page.inner_text("#refused")
                shoot(page, "refused-expired")

                # Resolving from the e-mail's link: the citizen hears that too.
                page.goto(link(text, "Tandai selesai"))
                page.fill("#note", "Sampah sudah diangkut, lokasi bersih.")
                page.click("#submit")
                page.wait_for_selector("#done")
                assert hub.store.complaint(cid)["state"] == "resolved"
                wait_for(lambda: "resolved" in citizen_heard(receiver))

                # "Not ours" on a resolved delivery breaks the lifecycle's rules: 409 and a page that says why.
                response = page.goto(link(text, "Bukan wewenang kami"))
                page.fill("#reason", "Ini wilayah kelurahan sebelah")
                with page.expect_response(lambda r: r.request.method == "POST") as answer:
                    page.click("#submit")
                assert answer.value.status == 409
                assert page.get_attribute("#refused", "data-why") == "conflict"
                assert "cannot become 'rejected'" in page.inner_text("#refused")
        finally:
            api.stop()
            hub.store.engine.dispose()
