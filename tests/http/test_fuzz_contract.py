"""Schemathesis fuzzes every operation of the served OpenAPI document (through ASGI), once with a
channel key and once with an admin key, with bounded examples. It fails on any 5xx and on any
answer whose status, content type, headers or body the document does not give, on an operation
that answers without its key, and on a 405 without a correct Allow.

Two checks are left out on purpose: `positive_data_acceptance` (a body can satisfy the schema and
still be refused with a 422 for reasons no schema can say, such as a rule naming a destination
that does not exist), and NUL in generated strings (the hub refuses NUL in any text, see
hub.core.documents; tests/http/test_hostile_input.py proves that answer)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub.http.app import create_app
from tests.harness import key_headers, make_hub

EXAMPLES = 10  # per operation and key: the whole run takes about a minute
# POST /v1/inbound/email takes a raw RFC 822 message (message/rfc822): sent as bytes, as
# application/octet-stream would be.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

_dir = Path(tempfile.mkdtemp(prefix="laporhub-fuzz-"))
HUB = make_hub("memory://localhost/", f"sqlite:///{_dir / 'fuzz.db'}", "fuzz-test", rate_limit="off")
KEYS = {"channel": key_headers(HUB, "channel", "web")["authorization"].split()[1],
        "admin": key_headers(HUB, "admin")["authorization"].split()[1]}
APP = create_app(HUB, relay=False)


def schema_for(role: str) -> schemathesis.BaseSchema:
    """The served document, with this role's key for both security schemes (schemathesis applies
    it, and takes it away when it checks that an operation refuses requests without a key)."""
    key = KEYS[role]
    config = schemathesis.Config.from_dict({
        "generation": {"allow-x00": False},
        "auth": {"openapi": {"bearer": {"bearer": key}, "open311ApiKey": {"api_key": key}}}})
    return schemathesis.openapi.from_asgi("/openapi.json", APP, config=config)


channel_schema, admin_schema = schema_for("channel"), schema_for("admin")


@pytest.fixture(scope="module", autouse=True)
def _dispose() -> Iterator[None]:
    yield
    HUB.store.engine.dispose()


def fuzz(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@channel_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented_to_a_channel_key(case: schemathesis.Case) -> None:
    fuzz(case)


@admin_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented_to_an_admin_key(case: schemathesis.Case) -> None:
    fuzz(case)
