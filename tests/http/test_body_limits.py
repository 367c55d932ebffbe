"""Size limits are enforced while the body is read, by the served API (uvicorn on loopback):
an oversized body is cut off with a 413 long before it has all been sent, and before any key or
signature is checked. YAML input cannot expand beyond a small alias budget."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.cli.processes import ApiServer
from hub.http.app import create_app
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub

MiB = 1024 * 1024


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'limits.db'}", "limits-test")
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def server(hub: Hub) -> Iterator[ApiServer]:
    srv = ApiServer(hub, port=0).start()
    yield srv
    srv.stop()


def _answer(sock: socket.socket, timeout: float) -> bytes:
    """What the server answered within `timeout` seconds (until it closes or goes quiet)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while not data.rstrip().endswith(b"}"):  # the JSON error body, complete
            part = sock.recv(65536)
            if not part:
                break
            data += part
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def _chunked_post(port: int, path: str, headers: dict[str, str], total: int) -> tuple[bytes, int]:
    """POST `total` bytes in 64 KiB chunks; stop as soon as the server answers. Returns the
    answer and how many body bytes were sent before it came."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    chunk = 64 * 1024
    piece = f"{chunk:x}\r\n".encode() + b"[" + b" " * (chunk - 1) + b"\r\n"
    sent = 0
    deadline = time.monotonic() + 60
    try:
        while sent < total and time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(piece)
            sent += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = _answer(sock, 10)
    sock.close()
    return answer, sent


def test_a_50_mb_chunked_post_to_intake_is_cut_off_early_with_413(hub: Hub, server: ApiServer) -> None:
    key = key_headers(hub, "channel", "web")["authorization"]
    answer, sent = _chunked_post(server.port, "/v1/complaints",
                                 {"Authorization": key, "Content-Type": "application/json"}, 50 * MiB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"field":"body"' in answer.replace(b" ", b"")
    assert sent < 16 * MiB, f"the server let {sent / MiB:.1f} MiB through before answering"


def test_a_40_mib_unauthenticated_status_callback_is_refused_from_its_content_length(server: ApiServer) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"POST /v1/complaints/c-x/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {40 * MiB}\r\n\r\n".encode() + b"{" * 1024)
    started = time.monotonic()
    answer = _answer(sock, 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3, "answered without waiting for the 40 MiB"


def test_a_chunked_status_callback_without_a_signature_is_cut_off_early(server: ApiServer) -> None:
    answer, sent = _chunked_post(server.port, "/v1/complaints/c-x/status",
                                 {"Content-Type": "application/json"}, 40 * MiB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 16 * MiB


def test_oversized_answers_use_the_json_error_shape_naming_the_body(hub: Hub) -> None:
    with TestClient(create_app(hub, relay=False), headers=key_headers(hub, "channel", "web")) as c:
        resp = c.post("/v1/complaints", content=b"{" + b" " * (300 * 1024) + b"}",
                      headers={"content-type": "application/json"})
    assert resp.status_code == 413
    body = resp.json()
    assert body["error"] == "too_large" and body["errors"][0]["field"] == "body"


BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""


def test_a_yaml_alias_bomb_is_refused_not_expanded(hub: Hub) -> None:
    assert len(BOMB) < 320
    with TestClient(create_app(hub, relay=False), headers=key_headers(hub, "admin")) as c:
        resp = c.post("/v1/admin/routing/validate", json={"yaml": BOMB})
    assert resp.status_code == 422, resp.status_code
    assert len(resp.content) < 4096
    assert "alias" in resp.text


def test_yaml_with_a_few_aliases_still_parses() -> None:
    from hub.core.documents import load_yaml

    doc = load_yaml("base: &b {category: roads}\nrules:\n  - *b\n  - *b\n")
    assert doc["rules"] == [{"category": "roads"}, {"category": "roads"}]


def test_the_alias_budget_counts_expansion_not_just_aliases() -> None:
    from hub.core.documents import YamlTooLarge, load_yaml

    # 16 levels of two aliases each: 32 aliases, 65,536 leaves once expanded.
    lines = ["l0: &l0 [x, x]"] + [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, 17)]
    with pytest.raises(YamlTooLarge):
        load_yaml("\n".join(lines))


def test_the_mail_gateway_posts_raw_mail_up_to_its_own_limit_and_action_forms_up_to_theirs(hub: Hub) -> None:
    """POST /v1/inbound/email takes message/rfc822 (10 MiB, cut off past it); /act/ takes a form
    (32 KiB); each refuses JSON with 415, in the one error shape."""
    with TestClient(create_app(hub, relay=False)) as c:
        mail = b"From: a@b.id\r\nTo: balas@x.id\r\n\r\n" + b"x" * (11 * MiB)
        resp = c.post("/v1/inbound/email", content=mail, headers={"content-type": "message/rfc822"})
        assert resp.status_code == 413 and resp.json()["errors"][0]["reason"] == f"at most {10 * MiB} bytes"
        small = b"From: a@b.id\r\nTo: balas@x.id\r\n\r\nSelesai\r\n"
        resp = c.post("/v1/inbound/email", content=small, headers={"content-type": "message/rfc822"})
        assert resp.status_code == 401 and resp.json()["error"] == "unauthenticated"  # past the guard
        resp = c.post("/v1/inbound/email", json={"mail": "Selesai"})
        assert resp.status_code == 415 and resp.json()["errors"][0] == {"field": "content-type",
                                                                        "reason": "must be message/rfc822"}
        resp = c.post("/act/some-token", json={"note": "x"})
        assert resp.status_code == 415 and resp.json()["error"] == "unsupported_media_type"
        resp = c.post("/act/some-token", data={"note": "x" * (40 * 1024)})
        assert resp.status_code == 413
        resp = c.post("/act/some-token", data={"note": "Petugas kami cek sore ini."})
        assert resp.status_code == 403 and "data-why='tampered'" in resp.text  # past the guard: a forged link
