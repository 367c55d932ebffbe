"""The destination portal in a real browser: a kelurahan's key, given at the console's sign-in,
opens its own portal; its inbox lists its deliveries only (checked against another kelurahan's
key), overdue first; it acknowledges a complaint with a button. An operator's key opens the
endpoint page with its attempt log. Screenshots go to test-output/portal/; with
LAPORHUB_UPDATE_SCREENSHOTS=1 also to docs/screenshots/, which the README shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from hub.cli.processes import ApiServer, workers
from hub.cli.receiver import Receiver
from hub.core.privacy import mask_text
from hub.infra.store import deliveries, now
from tests.browser import Shots, sign_in
from tests.email_hub import WASTE, email_hub
from tests.harness import key_headers, point_webhooks_at, settled, wait_for
from tests.http.test_portal import PASAR_MINGGU, WATER, Operator
from tests.mailbox import free_port, smtp_server

pytestmark = pytest.mark.browser

shoot = Shots("portal", docs=True)


@pytest.fixture
def served(tmp_path: Path, bus_prefix: str) -> Iterator[tuple[Any, str, Receiver]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp_server() as (_, smtp_url), Receiver() as receiver:
        hub = email_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix, smtp_url, base)
        point_webhooks_at(hub, receiver)
        api = ApiServer(hub, port=port).start()
        try:
            with workers(hub):
                yield hub, base, receiver
        finally:
            api.stop()
            hub.store.engine.dispose()


def test_a_kelurahan_works_its_own_inbox_in_the_portal(served: tuple[Any, str, Receiver], browser: Any) -> None:
    hub, base, _ = served
    jaki = key_headers(hub, "channel", "jaki")
    mine = [requests.post(f"{base}/v1/complaints", json={**WASTE, "external_ref": f"B-{i}", "title": title},
                          headers=jaki, timeout=10).json()["id"]
            for i, title in enumerate(["Sampah menumpuk di Jl. Kenanga", "Tumpukan sampah dekat sekolah"])]
    theirs = requests.post(f"{base}/v1/complaints", json={**PASAR_MINGGU, "external_ref": "B-9"}, headers=jaki,
                           timeout=10).json()["id"]
    for cid in [*mine, theirs]:
        wait_for(lambda: settled(hub, cid))
    with hub.store.begin() as conn:  # the second one's clock started ten days ago: overdue
        conn.execute(deliveries.update().where(deliveries.c.complaint_id == mine[1])
                     .values(clock_from=now() - timedelta(days=10)))
    cilandak = key_headers(hub, "destination", "kelurahan-cilandak-timur")["authorization"].split()[1]
    pasar = key_headers(hub, "destination", "kelurahan-pasar-minggu")["authorization"].split()[1]

    page = browser.new_page(viewport={"width": 1200, "height": 760})
    sign_in(page, base, cilandak)  # the console's sign-in sends a destination key to its portal
    page.wait_for_selector("tr[data-complaint]")
    assert page.url.startswith(f"{base}/portal")
    rows = page.locator("tr[data-complaint]")
    assert [rows.nth(i).get_attribute("data-complaint") for i in range(rows.count())] == [mine[1], mine[0]]
    assert "terlambat" in rows.nth(0).inner_text() and "sisa" in rows.nth(1).inner_text()
    assert theirs not in page.content()
    shoot(page, "portal-inbox")

    page.click(f"tr[data-complaint='{mine[1]}'] a")
    page.wait_for_selector("#complaint-text")
    assert mask_text("0812-3456-7890") in page.inner_text("#complaint-text")
    page.click("button[data-action=acknowledge]")
    page.fill("#f-note", "Petugas kami cek sore ini.")
    shoot(page, "portal-complaint")
    page.click("#submit-acknowledge")
    page.wait_for_selector("#action-done")
    assert [d["state"] for d in hub.store.deliveries_of(mine[1])] == ["acknowledged"]
    page.wait_for_selector("#delivery-state:text('acknowledged')")

    # Another kelurahan's key, in a fresh tab: only its own complaint.
    other = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(other, base, pasar)
    other.wait_for_selector("tr[data-complaint]")
    listed = other.locator("tr[data-complaint]")
    assert [listed.nth(i).get_attribute("data-complaint") for i in range(listed.count())] == [theirs]
    other.goto(f"{base}/portal#/complaints/{mine[0]}")
    other.wait_for_selector("#page-error")
    assert "was not delivered to this destination" in other.inner_text("#page-error")


def test_an_operator_reads_its_attempt_log_in_the_portal(served: tuple[Any, str, Receiver], browser: Any) -> None:
    hub, base, _ = served
    operator = Operator()  # answers 503 with a body until told otherwise
    hub.config.registry.update_options("pam-jaya", url=operator.url, max_attempts=2, backoff_initial=0.01)
    jaki = key_headers(hub, "channel", "jaki")
    cid = requests.post(f"{base}/v1/complaints", json={**WATER, "external_ref": "L-1"}, headers=jaki, timeout=10).json()["id"]
    assert wait_for(lambda: settled(hub, cid))["deliveries"][0]["status"] == "dead"
    operator.down = False
    page = browser.new_page(viewport={"width": 1200, "height": 760})
    sign_in(page, base, key_headers(hub, "destination", "pam-jaya")["authorization"].split()[1])
    page.wait_for_selector("#failed-notice")
    page.goto(f"{base}/portal#/endpoint")
    page.wait_for_selector("#endpoint-url")
    page.click("#test-send")
    page.wait_for_selector("#endpoint-message .notice")
    assert "delivered" in page.inner_text("#endpoint-message")
    page.wait_for_selector("td:text('200')")
    # Status code and duration; the operator's answer body is never stored or shown (issue 11).
    assert "503" in page.inner_text("main") and "maintenance" not in page.content()
    shoot(page, "portal-endpoint")

    page.goto(f"{base}/portal#/recover")
    page.fill("#recover-reason", "endpoint kembali normal")
    page.click("#recover-count")
    page.wait_for_selector("#recover-preview")
    assert page.inner_text("#recover-preview").startswith("1 kiriman gagal")
    page.click("#recover-confirm")
    page.wait_for_selector("#recover-done")
    wait_for(lambda: hub.store.deliveries_of(cid)[0]["status"] == "delivered")
    operator.close()
