"""Schemathesis fuzzes every operation of the served OpenAPI document, with a channel key and with
an admin key (bounded examples), and fails on any 5xx or any answer that does not match the
documented status codes, content types, headers and schemas."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from hub.http.app import create_app
from tests.harness import key_headers, make_hub

EXAMPLES = 12  # per operation and key: about a minute for the whole document

_dir = Path(tempfile.mkdtemp(prefix="laporhub-fuzz-"))
HUB = make_hub("memory://localhost/", f"sqlite:///{_dir / 'fuzz.db'}", "fuzz-test",
               rate_limit="1000000/60")
KEYS = {"channel": key_headers(HUB, "channel", "web"), "admin": key_headers(HUB, "admin")}
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(HUB, relay=False))


@pytest.fixture(scope="module", autouse=True)
def _dispose() -> None:
    yield
    HUB.store.engine.dispose()


@pytest.mark.parametrize("role", sorted(KEYS))
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case: schemathesis.Case, role: str) -> None:
    headers = dict(KEYS[role])
    if case.path.startswith("/open311/") and case.method == "POST" and isinstance(case.query, dict):
        case.query.setdefault("api_key", headers["authorization"].split()[1])
    case.call_and_validate(headers=headers)
