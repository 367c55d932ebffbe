"""Rate limits per key: a key that sends faster than its channel's limit gets 429 with
Retry-After; other keys are not affected; the limit is configurable per channel."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.aftercare import inbound
from hub.core import signing
from hub.http.app import create_app as make_app
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub

def create_app(hub: Hub, relay: bool = False):
    """The app with its limiter's clock stopped, so a slow machine refills nothing mid-test."""
    app = make_app(hub, relay=relay)
    app.state.limiter.clock = lambda: 1000.0
    return app


COMPLAINT = {"channel": "web", "text": "Lampu jalan mati sejak seminggu di gang kami, gelap sekali."}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'rate.db'}", "rate-test",
                   rate_limit="10/60", rate_limits={"jaki": "40/60"})
    yield hub
    hub.store.engine.dispose()


def test_a_key_over_its_limit_gets_429_with_retry_after_and_the_error_shape(hub: Hub) -> None:
    web = key_headers(hub, "channel", "web")
    with TestClient(create_app(hub, relay=False)) as c:
        answers = [c.post("/v1/complaints", json={**COMPLAINT, "external_ref": f"r{i}"}, headers=web)
                   for i in range(15)]
        other = c.post("/v1/complaints", json={**COMPLAINT, "external_ref": "other"},
                       headers=key_headers(hub, "channel", "web"))
    codes = [a.status_code for a in answers]
    assert codes[:10] == [201] * 10 and set(codes[10:]) == {429}, codes
    limited = answers[-1]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    body = limited.json()
    assert body["error"] == "rate_limited" and body["errors"][0]["field"] == "authorization"
    assert other.status_code == 201, "another key of the same channel has its own allowance"


def test_the_limit_is_configurable_per_channel(hub: Hub) -> None:
    jaki = key_headers(hub, "channel", "jaki")
    with TestClient(create_app(hub, relay=False)) as c:
        codes = [c.post("/v1/complaints", json={**COMPLAINT, "channel": "jaki", "external_ref": f"j{i}"},
                        headers=jaki).status_code for i in range(45)]
    assert codes.count(201) == 40 and codes.count(429) == 5, codes


def test_open311_posts_count_against_the_key_too(hub: Hub) -> None:
    key = key_headers(hub, "channel", "open311")["authorization"].split()[1]
    form = {"service_code": "roads", "lat": "-6.26", "long": "106.81", "api_key": key,
            "description": "Jalan berlubang besar di depan pasar"}
    with TestClient(create_app(hub, relay=False)) as c:
        codes = [c.post("/open311/v2/requests.json", data=form).status_code for _ in range(12)]
        last = c.post("/open311/v2/requests.json", data=form)
    assert codes[:10] == [200] * 10 and last.status_code == 429, codes
    assert last.headers["retry-after"] and json.loads(last.text)[0]["code"] == 429


def test_rate_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.settings.environment import Settings

    monkeypatch.setenv("LAPORHUB_RATE_LIMIT", "100/60")
    monkeypatch.setenv("LAPORHUB_RATE_LIMITS", "jaki=6000/60, web=300/60")
    s = Settings.from_env()
    assert s.rate_limit == "100/60" and s.rate_limits == {"jaki": "6000/60", "web": "300/60"}


def test_inbound_mail_has_its_own_allowances_and_a_forged_flood_is_not_kept(tmp_path: Path) -> None:
    """The mail gateway signs its posts: signed ones spend the `mail-gateway` allowance, unsigned
    ones a separate, smaller one (20/60 by default). Over it, a post is 429 and not stored, so
    forged mail can neither fill the store nor use up the real gateway's allowance."""
    secret = "whsec_ZGV2LW9ubHktaW5ib3VuZC1nYXRld2F5LXNlY3JldA=="
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'mail.db'}", "rate-mail",
                   rate_limit="10/60", rate_limits={"mail-gateway": "5/60"}, inbound_email_secret=secret)
    raw = b"From: a@b.c\r\nTo: balas+x@laporhub.test\r\nSubject: Re: aduan\r\n\r\nSelesai\r\n"
    try:
        with TestClient(create_app(hub, relay=False)) as c:
            forged = [c.post("/v1/inbound/email", content=raw, headers={"content-type": "message/rfc822"})
                      for _ in range(25)]
            signed = [c.post("/v1/inbound/email", content=raw, headers={
                "content-type": "message/rfc822", **signing.headers([secret], f"msg_{uuid.uuid4().hex}", raw)})
                for _ in range(7)]
        codes = [a.status_code for a in forged]
        assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}, codes
        assert forged[-1].json()["errors"][0]["field"] == "webhook-signature"
        assert "unsigned inbound mail is over its rate limit" in forged[-1].json()["message"]
        # The gateway's own allowance is untouched by the flood: 5 answered (unmatched), then 429.
        assert [a.status_code for a in signed] == [422] * 5 + [429] * 2
        kept = inbound.listing(hub, limit=1000)
        assert len(kept) == 25, "the 20 unsigned refusals and 5 signed posts; nothing over the limits"
    finally:
        hub.store.engine.dispose()
