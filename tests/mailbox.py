"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives, optionally
asking for a login or refusing some recipients, as a city's mail server might."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
import warnings
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any, Iterator

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


class Mailbox:
    """The handler: received messages, parsed; `refuse` maps an address to an SMTP answer."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.refuse: dict[str, str] = {}
        self.received = threading.Condition()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.received:
            self.envelopes.append(envelope)
            self.messages.append(msg)  # type: ignore[arg-type]
            self.received.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self.received:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} e-mail(s), got {len(self.messages)}")
                self.received.wait(left)
            return list(self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(login: tuple[str, str] | None = None, port: int | None = None, box: Mailbox | None = None,
                **kwargs: Any) -> Iterator[tuple[Mailbox, str]]:
    """(mailbox, LAPORHUB_SMTP_URL) for a server on a free loopback port (or this one: a server
    that comes back where it was)."""
    box = box or Mailbox()
    port = port or free_port()
    options: dict[str, Any] = {}
    if login:
        def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                         auth_data: Any) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == login
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=False)
    with warnings.catch_warnings():  # a test server on loopback: AUTH without TLS is fine here
        warnings.simplefilter("ignore", UserWarning)
        controller = Controller(box, hostname="127.0.0.1", port=port, **options, **kwargs)
    controller.start()
    try:
        user = f"{login[0]}:{login[1]}@" if login else ""
        yield box, f"smtp://{user}127.0.0.1:{port}"
    finally:
        controller.stop()
