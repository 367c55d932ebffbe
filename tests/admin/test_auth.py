"""Access control (`hub/admin/auth.py`) as a specification: which key gets in (401 otherwise),
which role may do what (403 naming the role needed), and whose complaints a scoped key may submit
and read. A small FastAPI app applies the dependencies; the rules are also called directly."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from hub.admin import keys
from hub.admin.auth import Refused, administer, may_read, may_submit, require
from hub.admin.keys import Principal
from hub.http import errors as http_errors
from hub.settings.runtime import Hub

CHANNEL = Principal("k1", "JAKI", "channel", "jaki")
DESTINATION = Principal("k2", "PAM Jaya", "destination", "pam-jaya")
ADMIN = Principal("k3", "Dewi", "admin")
AUDITOR = Principal("k4", "BPK", "auditor")
VIEW = {"id": "c-1", "channel": "jaki", "deliveries": [{"destination": "pam-jaya"}, {"destination": "jaki-app"}]}


@pytest.fixture
def hub(memory_hub: Hub) -> Hub:
    return memory_hub


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    """An app with one route per kind of check, answering with the principal it let through."""
    app = FastAPI()
    app.state.hub = hub
    http_errors.install(app)  # the one error path turns refusals into their JSON answers

    def shown(who: Principal) -> dict[str, Any]:
        return {"key_id": who.key_id, "role": who.role, "scope": who.scope}

    @app.get("/anyone")
    def anyone(who: Principal = Depends(require())) -> dict[str, Any]:
        return shown(who)

    @app.get("/admins")
    def admins(who: Principal = Depends(require("admin"))) -> dict[str, Any]:
        return shown(who)

    @app.get("/twice", dependencies=[Depends(require("admin", "auditor"))])
    def twice(who: Principal = Depends(require())) -> dict[str, Any]:
        return shown(who)

    @app.get("/administered")
    @app.post("/administered")
    def administered(who: Principal = Depends(administer)) -> dict[str, Any]:
        return shown(who)

    with TestClient(app) as c:
        yield c


def bearer(issued: keys.IssuedKey) -> dict[str, str]:
    return {"authorization": f"Bearer {issued.secret}"}


# -- who is calling -------------------------------------------------------------------------------

def test_a_key_is_accepted_as_bearer_in_any_case_or_as_x_api_key(client: TestClient, hub: Hub) -> None:
    issued = keys.create(hub.store, "JAKI", "channel", "jaki", reason="test")
    for headers in ({"authorization": f"Bearer {issued.secret}"}, {"authorization": f"bearer  {issued.secret}"},
                    {"x-api-key": issued.secret}):
        resp = client.get("/anyone", headers=headers)
        assert resp.status_code == 200, headers
        assert resp.json() == {"key_id": issued.id, "role": "channel", "scope": "jaki"}


@pytest.mark.parametrize("headers, says", [
    ({}, "no API key"),
    ({"authorization": "Basic dXNlcjpwYXNz"}, "no API key"),
    ({"authorization": "Bearer "}, "no API key"),
    ({"authorization": "Bearer lhk_nothere_secret"}, "not valid"),
    ({"x-api-key": "not-even-our-format"}, "not valid"),
])
def test_no_key_or_an_unknown_one_is_401_with_a_challenge_and_a_reason(
        client: TestClient, headers: dict[str, str], says: str) -> None:
    resp = client.get("/anyone", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthenticated" and says in resp.json()["message"]
    assert resp.headers["www-authenticate"] == 'Bearer realm="laporhub"'


def test_a_key_with_the_right_id_but_a_wrong_secret_is_refused(client: TestClient, hub: Hub) -> None:
    issued = keys.create(hub.store, "ops", "admin", reason="test")
    forged = issued.secret[:-4] + ("AAAA" if not issued.secret.endswith("AAAA") else "BBBB")
    assert client.get("/anyone", headers={"x-api-key": forged}).status_code == 401
    assert client.get("/anyone", headers={"x-api-key": issued.secret}).status_code == 200


def test_a_revoked_key_or_one_replaced_by_rotation_stops_working_at_once(client: TestClient, hub: Hub) -> None:
    revoked = keys.create(hub.store, "old laptop", "admin", reason="test")
    rotated = keys.create(hub.store, "JAKI", "channel", "jaki", reason="test")
    assert client.get("/anyone", headers=bearer(revoked)).status_code == 200
    keys.revoke(hub.store, revoked.id, reason="laptop lost")
    successor = keys.rotate(hub.store, rotated.id, reason="yearly")
    for gone in (revoked, rotated):
        resp = client.get("/anyone", headers=bearer(gone))
        assert resp.status_code == 401 and "revoked" in resp.json()["message"]
    assert client.get("/anyone", headers=bearer(successor)).json() == {
        "key_id": successor.id, "role": "channel", "scope": "jaki"}


def test_the_key_is_checked_once_per_request_however_many_dependencies_ask(
        client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = keys.create(hub.store, "BPK", "auditor", reason="test")
    calls: list[str] = []
    real = keys.authenticate

    def counting(store: Any, presented: str) -> Principal | None:
        calls.append(presented)
        return real(store, presented)

    monkeypatch.setattr(keys, "authenticate", counting)
    assert client.get("/twice", headers=bearer(issued)).json()["role"] == "auditor"
    assert calls == [issued.secret]


# -- roles ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, scope, status", [
    ("admin", None, 200), ("auditor", None, 403), ("channel", "jaki", 403), ("destination", "pam-jaya", 403)])
def test_require_lets_only_the_named_roles_through_and_names_the_role_needed(
        client: TestClient, hub: Hub, role: str, scope: str | None, status: int) -> None:
    resp = client.get("/admins", headers=bearer(keys.create(hub.store, "k", role, scope, reason="test")))
    assert resp.status_code == status
    if status == 403:
        assert resp.json() == {"error": "forbidden",
                               "message": f"{'an' if role[0] in 'aeiou' else 'a'} {role} key may not do this; "
                                          "it needs a key with role admin", "errors": []}
        assert "www-authenticate" not in resp.headers


@pytest.mark.parametrize("role, scope, get, post", [
    ("admin", None, 200, 200), ("auditor", None, 200, 403), ("channel", "jaki", 403, 403),
    ("destination", "pam-jaya", 403, 403)])
def test_administration_auditors_read_and_only_admins_change(
        client: TestClient, hub: Hub, role: str, scope: str | None, get: int, post: int) -> None:
    headers = bearer(keys.create(hub.store, "k", role, scope, reason="test"))
    read = client.get("/administered", headers=headers)
    change = client.post("/administered", headers=headers)
    assert (read.status_code, change.status_code) == (get, post)
    if get == 403:
        assert read.json()["message"].endswith("it needs a key with role admin or auditor")
    if post == 403:
        assert change.json()["message"].endswith("it needs a key with role admin")


def test_a_key_must_have_a_known_role_and_a_scope_exactly_when_the_role_is_scoped(hub: Hub) -> None:
    for role, scope, says in (("superuser", None, "unknown role"), ("channel", None, "needs a scope"),
                              ("destination", "", "needs a scope"), ("admin", "jaki", "has no scope"),
                              ("auditor", "pam-jaya", "has no scope")):
        with pytest.raises(keys.KeyError_) as refused:
            keys.create(hub.store, "k", role, scope, reason="test")
        assert says in str(refused.value), (role, scope)
    assert keys.listing(hub.store) == []


# -- whose complaints -----------------------------------------------------------------------------

def test_only_a_channel_key_submits_and_only_for_its_own_channel() -> None:
    may_submit(CHANNEL, "jaki")
    with pytest.raises(Refused) as other:
        may_submit(CHANNEL, "web")
    assert (other.value.status, other.value.message) == (403, "this key submits for channel 'jaki', not 'web'")
    for who in (DESTINATION, ADMIN, AUDITOR):
        with pytest.raises(Refused) as refused:
            may_submit(who, who.scope)
        assert refused.value.status == 403 and "only channel keys submit" in refused.value.message


def test_admins_and_auditors_read_every_complaint() -> None:
    for who in (ADMIN, AUDITOR):
        may_read(who, {"id": "c-9", "channel": "web", "deliveries": []})


def test_a_channel_reads_what_came_through_it_and_a_destination_what_was_delivered_to_it() -> None:
    may_read(CHANNEL, VIEW)
    may_read(DESTINATION, VIEW)
    refusals = [(Principal("k5", "Web", "channel", "web"), "a channel key for 'web'"),
                (Principal("k6", "PLN", "destination", "pln-uid-jakarta-raya"),
                 "a destination key for 'pln-uid-jakarta-raya'")]
    for who, named in refusals:
        with pytest.raises(Refused) as refused:
            may_read(who, VIEW)
        assert refused.value.status == 403
        assert refused.value.message == f"complaint c-1 is not yours: {named} reads only its own complaints"


def test_a_channel_key_does_not_read_by_naming_a_destination_nor_the_other_way_round() -> None:
    """Scopes are per role: a channel key scoped 'pam-jaya' is not the destination pam-jaya."""
    with pytest.raises(Refused):
        may_read(Principal("k7", "odd", "channel", "pam-jaya"), VIEW)
    with pytest.raises(Refused):
        may_read(Principal("k8", "odd", "destination", "jaki"), VIEW)
