"""Every answer tells browsers not to sniff types and which sources a page may load; /admin may not
be framed (clickjacking)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.http.app import create_app
from hub.settings.runtime import Hub
from tests.harness import make_hub


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'headers.db'}", "headers-test")
    with TestClient(create_app(hub, relay=False)) as c:
        yield c
    hub.store.engine.dispose()


@pytest.mark.parametrize("path", ["/healthz", "/v1/complaints", "/open311/v2/services.json", "/admin", "/docs",
                                  "/openapi.json", "/no-such-page", "/portal", "/act/not-a-token"])
def test_every_answer_carries_nosniff_and_a_content_security_policy(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.headers.get("x-content-type-options") == "nosniff"
    csp = resp.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp or "default-src 'none'" in csp, csp
    assert "frame-ancestors 'none'" in csp


def test_the_admin_console_may_not_be_framed(client: TestClient) -> None:
    for path in ("/admin", "/admin/static/console.js"):
        resp = client.get(path)
        assert resp.status_code == 200
        assert resp.headers.get("x-frame-options") == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]


def test_pages_allow_no_inline_script_and_no_other_origin(client: TestClient) -> None:
    for path in ("/admin", "/docs"):
        csp = client.get(path).headers["content-security-policy"]
        script = next(d for d in csp.split(";") if d.strip().startswith(("script-src", "default-src")))
        assert "'unsafe-inline'" not in script and "http" not in script, csp
        assert "cdn" not in client.get(path).text.lower()


def test_only_the_portal_may_frame_openstreetmap_and_it_may_not_be_framed(client: TestClient) -> None:
    portal = client.get("/portal")
    assert portal.status_code == 200 and portal.headers.get("x-frame-options") == "DENY"
    directives = [d.strip() for d in portal.headers["content-security-policy"].split(";")]
    assert "frame-src https://www.openstreetmap.org" in directives and "script-src 'self'" in directives
    for path in ("/admin", "/docs", "/act/not-a-token"):
        assert "frame-src" not in client.get(path).headers["content-security-policy"], path
