"""A small local webhook receiver standing in for operators: verifies Standard Webhooks
signatures and deduplicates on webhook-id, as an operator should. Used by the demo and tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping

from hub.core import signing


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def read_signed(request: BaseHTTPRequestHandler, secrets: Mapping[str, str]) -> tuple[dict[str, str], bytes, bool]:
    """A request's headers (lower-cased) and body, and whether it is signed with the secret of its
    path's last segment (one path per destination, as operators are configured here)."""
    body = request.rfile.read(int(request.headers.get("content-length", 0)))
    headers = {k.lower(): v for k, v in request.headers.items()}
    secret = secrets.get(request.path.rstrip("/").rsplit("/", 1)[-1])
    if not secret:
        return headers, body, False
    try:
        signing.verify(secret, headers, body)
    except signing.SignatureError:
        return headers, body, False
    return headers, body, True


@dataclass
class Receiver:
    """Serves on 127.0.0.1; `secrets` maps a path's last segment to its secret."""

    secrets: dict[str, str] = field(default_factory=dict)
    port: int = 0
    # Answers a request: a status, or (status, extra headers) e.g. a 429 with Retry-After.
    respond: Callable[[Received], int | tuple[int, dict[str, str]]] | None = None
    received: list[Received] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    duplicates: int = 0

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                headers, body, verified = read_signed(self, outer.secrets)
                item = Received(self.path, headers, body, verified)
                answer = outer.respond(item) if outer.respond else (204 if verified else 401)
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                if 200 <= status < 300:
                    wid = headers.get("webhook-id", "")
                    if wid in outer.seen_ids:
                        outer.duplicates += 1
                    else:
                        outer.seen_ids.add(wid)
                        outer.received.append(item)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
