"""An operator's webhook endpoint that keeps a log of every request it sees, with the moment
the request arrived and the moment it ended (answered, or abandoned by the hub after its
timeout), so a test can tell whether one delivery was ever worked in two places at once.

Signatures are verified by `hub.cli.receiver.read_signed`; `behave(path, elapsed)` decides each answer:
an HTTP status, or ("hang", seconds) to hold the request until the hub gives up on it."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from hub.cli.receiver import read_signed


@dataclass
class Request:
    webhook_id: str
    path: str
    start: float
    end: float
    status: int | str  # an HTTP status, or "abandoned" when the hub hung up first
    verified: bool


Behaviour = Callable[[str, float], "int | tuple[str, float]"]


@dataclass
class Operator:
    behave: Behaviour = lambda path, elapsed: 204
    secrets: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    first: float | None = None

    def __post_init__(self) -> None:
        outer, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                start = time.monotonic()
                headers, _, verified = read_signed(self, outer.secrets)
                with lock:
                    outer.first = outer.first or start
                answer = outer.behave(self.path, start - outer.first)
                status: int | str = answer if isinstance(answer, int) else 503
                if isinstance(answer, tuple):
                    if self._hang(answer[1]):
                        status = "abandoned"
                if not verified and isinstance(status, int) and status < 300:
                    status = 401
                with lock:
                    outer.requests.append(Request(headers.get("webhook-id", ""), self.path, start,
                                                  time.monotonic(), status, verified))
                if status == "abandoned":
                    self.close_connection = True
                    return
                self.send_response(int(status))
                self.send_header("content-length", "0")
                self.end_headers()

            def _hang(self, seconds: float) -> bool:
                """Hold the request; True as soon as the client hangs up (it timed out)."""
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    readable, _, _ = select.select([self.connection], [], [], 0.02)
                    if readable:
                        try:
                            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                                return True
                        except OSError:
                            return True
                return False

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Operator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what the operator saw ---------------------------------------------------------------

    def by_delivery(self) -> dict[str, list[Request]]:
        """Every request per webhook-id (deliveries only, not notices), in arrival order."""
        seen: dict[str, list[Request]] = defaultdict(list)
        for r in sorted(self.requests, key=lambda r: r.start):
            if r.webhook_id.startswith("d-"):
                seen[r.webhook_id].append(r)
        return seen

    def overlapping(self) -> list[str]:
        """Webhook-ids with two requests in progress at the same moment."""
        return [wid for wid, rs in self.by_delivery().items()
                if any(b.start < a.end - 0.005 for a, b in zip(rs, rs[1:]))]

    def accepted(self) -> dict[str, int]:
        """Webhook-id -> times answered 2xx (a deduplicating operator keeps the first)."""
        return {wid: n for wid, rs in self.by_delivery().items()
                if (n := sum(1 for r in rs if isinstance(r.status, int) and 200 <= r.status < 300))}
