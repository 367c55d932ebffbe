"""The web console in a real browser (Debian's headless Chromium driven by Playwright): an
administrator signs in, sends a category elsewhere, reads the impact preview, publishes, and a
complaint submitted afterwards arrives at the new destination. A non-admin key is refused.
Screenshots of every page, on a laptop and on a phone, go to test-output/console/."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from hub.cli.processes import ApiServer, workers
from hub.cli.receiver import Receiver
from hub.settings.runtime import Hub
from tests.browser import LAPTOP, PHONE, Shots, sign_in
from tests.harness import key_headers, make_hub, point_webhooks_at, settled, wait_for

pytestmark = pytest.mark.browser

shoot = Shots("console")

WATER = {"channel": "web", "title": "Air PAM mati",
         "text": "Air PAM tidak mengalir sudah tiga hari, pipa ledeng bocor di depan rumah.",
         "location": {"kota": "Jakarta Timur"}}


@pytest.fixture
def hub(tmp_path: Path, bus_prefix: str) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'console.db'}", bus_prefix)
    yield hub
    hub.store.engine.dispose()


def test_an_administrator_sends_water_complaints_elsewhere_from_the_console(hub: Hub, browser: Any) -> None:
    admin = key_headers(hub, "admin", name="Dewi (operations)")["authorization"].split()[1]
    web = key_headers(hub, "channel", "web")
    with Receiver() as receiver, workers(hub):
        point_webhooks_at(hub, receiver)
        api = ApiServer(hub, port=0).start()
        base = f"http://127.0.0.1:{api.port}"
        try:
            before = [requests.post(f"{base}/v1/complaints", json={**WATER, "external_ref": f"W-{i}"},
                                    headers=web, timeout=10).json()["id"] for i in range(3)]
            for cid in before:
                assert [d["destination"] for d in wait_for(lambda: settled(hub, cid))["deliveries"]] == ["pam-jaya"]

            page = browser.new_page(viewport=LAPTOP)

            # A channel's key does not open the console.
            sign_in(page, base, web["authorization"].split()[1])
            page.wait_for_selector("#signin-message.bad")
            assert "Refused: this is a channel key" in page.inner_text("#signin-message")
            shoot(page, "signin-refused-laptop")

            # The administrator edits the water rule: PAM Jaya -> Dinas Sumber Daya Air.
            sign_in(page, base, admin)
            page.wait_for_selector('input[data-rule="water"]')
            assert page.inner_text("#published-version") == "r1"
            page.fill('input[data-rule="water"]', "dinas-sda")
            page.fill("#draft-note", "water to Dinas SDA while PAM Jaya's intake is down")
            page.click("#preview-impact")
            page.wait_for_selector("#preview-summary")
            summary = page.inner_text("#preview-summary")
            assert summary.startswith("3 of 3"), summary
            assert "pam-jaya" in page.inner_text("#preview") and "dinas-sda" in page.inner_text("#preview")
            shoot(page, "rules-preview-laptop")

            # Publishing needs a reason.
            page.click("#publish")
            page.wait_for_selector("#publish-message .bad")
            page.fill("#publish-reason", "PAM Jaya intake outage; SDA handles water meanwhile")
            page.click("#publish")
            page.wait_for_selector("text=Published r2")
            assert hub.config.ruleset.version == "r2"

            # A complaint submitted now arrives at the new destination.
            cid = requests.post(f"{base}/v1/complaints", json={**WATER, "external_ref": "W-after"},
                                headers=web, timeout=10).json()["id"]
            view = wait_for(lambda: settled(hub, cid))
            assert [(d["destination"], d["status"]) for d in view["deliveries"]] == [("dinas-sda", "delivered")]
            assert view["decision"]["ruleset_version"] == "r2"
            page.goto(f"{base}/admin#/complaints/{cid}")
            page.wait_for_selector('tr[data-destination="dinas-sda"]')
            assert "delivered" in page.inner_text('tr[data-destination="dinas-sda"]')

            # Every router reports the version it runs.
            routers = requests.get(f"{base}/v1/admin/routing/routers", headers={"authorization": f"Bearer {admin}"},
                                   timeout=10).json()
            assert routers["routers"] and all(r["routing_version"] == "r2" for r in routers["routers"])

            # Screenshots of every page on a laptop and on a phone.
            for viewport, suffix in ((LAPTOP, "laptop"), (PHONE, "phone")):
                page.set_viewport_size(viewport)
                for name, ready in (("rules", 'input[data-rule="water"]'), ("explain", "#explain-input"),
                                    ("complaints", "#search-q"), (f"complaints/{cid}", 'tr[data-destination]'),
                                    ("destinations", "#destination-pam-jaya"), ("dead-letters", "main[data-page]"),
                                    ("sla", "main[data-page]"), ("handoff", "main[data-page]"),
                                    ("keys", "#key-name"), ("audit", "text=routing.publish")):
                    page.goto(f"{base}/admin#/{name}")
                    page.reload()
                    page.wait_for_selector(ready)
                    if name == "explain":
                        page.fill("#explain-input", WATER["text"])
                        page.click("#explain")
                        page.wait_for_selector("#explain-output table")
                        assert "Dinas Sumber Daya Air" in page.inner_text("#explain-output")
                        # what decided: the words that counted, for an administrator to fix the vocabulary
                        assert "tidak mengalir" in page.inner_text("#explain-output tr.why-words")
                    shoot(page, f"{name.replace('/', '-') if '/' not in name else 'complaint'}-{suffix}")
        finally:
            api.stop()
