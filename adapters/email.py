"""The `email` adapter: for a destination that has only an e-mail address (a kelurahan office, a
building manager, a small operator). Each delivery goes out as one multipart e-mail with signed
one-click action links and a per-delivery Reply-To (see hub/core/actions.py).

The SMTP server is the hub's: `LAPORHUB_SMTP_URL`, e.g.

    smtp://mailer:secret@mail.jakarta.go.id:587?starttls=required
    smtps://mailer:secret@mail.jakarta.go.id          (TLS from the first byte, port 465)
    smtp://127.0.0.1:2525?starttls=never               (a local relay)

`starttls` is `auto` (use it when the server offers it; the default), `required` or `never`.
A refused or failed send raises `Failed`: temporary SMTP answers (4xx), connection errors and
authentication failures are retried on the dispatcher's long schedule; permanent answers (5xx:
no such mailbox, message refused) are not, and end as dead letters with the server's reason.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any, ClassVar, Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from adapters import Attempt, Context, Failed, Receipt, message_id
from adapters.email_render import Renderer, message
from hub.core import options, schemas
from hub.core.destinations import Destination
from hub.core.errors import InvalidMessage


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send, from LAPORHUB_SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool
    starttls: str  # auto, required, never
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        if not url:
            raise ValueError("the email adapter needs LAPORHUB_SMTP_URL (e.g. smtp://user:pass@host:587)")
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"LAPORHUB_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        if not parts.hostname:
            raise ValueError("LAPORHUB_SMTP_URL has no host")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        starttls = query.get("starttls", "auto")
        if starttls not in ("auto", "required", "never"):
            raise ValueError(f"LAPORHUB_SMTP_URL: starttls must be auto, required or never, not {starttls!r}")
        tls = parts.scheme == "smtps"
        return cls(parts.hostname, parts.port or (465 if tls else 25), tls, "never" if tls else starttls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def __str__(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


def _addresses(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


class EmailAdapter:
    """Options (schemas/email-options.schema.json): `to`, `cc`, `language` (`id` or `en`), `timeout`."""

    name: ClassVar[str] = "email"
    # The adapter's options: schemas/email-options.schema.json (to, cc, language, timeout), checked
    # by hub.core.options.check with the dispatcher's own options added; the file is also what
    # config load and PUT /v1/admin/destinations check before an adapter is built.
    options_schema: ClassVar[dict[str, Any]] = {
        k: v for k, v in schemas.schema("email-options").items() if k in ("required", "properties", "$defs")}

    def __init__(self, destination: Destination, context: Context,
                 tls_context: ssl.SSLContext | None = None) -> None:
        try:
            opts = options.check(self.name, self.options_schema, destination.options)
        except InvalidMessage as exc:  # as every adapter refuses bad options, each field named
            raise ValueError(f"destination {destination.id!r}: {exc}") from None
        if context.links is None:
            raise ValueError("the email adapter needs action links (the hub's link secret)")
        settings = context.settings
        self.destination = destination
        self.server = SmtpServer.from_url(settings.smtp_url)
        self.to = _addresses(opts["to"])
        self.cc = _addresses(opts.get("cc"))
        self.language = opts.get("language", "id")
        self.timeout = float(opts.get("timeout", settings.webhook_timeout))
        name, address = parseaddr(settings.mail_from)
        self.sender = formataddr((name or "LaporHub", address))
        self.reply_base = settings.reply_address or None
        self.links = context.links
        self.renderer = Renderer(context.links, context.policy, context.category_names)
        self.tls_context = tls_context or ssl.create_default_context()

    def compose(self, delivery: Mapping[str, Any]) -> EmailMessage:
        rendered = self.renderer.render(delivery, self.destination.name, self.language)
        reply_to = (self.links.reply_address(delivery["delivery_id"], self.reply_base)
                    if self.reply_base else None)
        return message(rendered, sender=self.sender, to=self.to, cc=self.cc, reply_to=reply_to,
                       message_id=message_id(delivery), delivery=delivery, language=self.language)

    def _connect(self) -> smtplib.SMTP:
        s = self.server
        if s.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self.tls_context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        smtp.ehlo()
        if s.starttls != "never" and not s.implicit_tls:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self.tls_context)
                smtp.ehlo()
            elif s.starttls == "required":
                smtp.quit()
                raise _NoStartTls(f"{s} does not offer STARTTLS, and the URL says starttls=required")
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def deliver(self, delivery: Mapping[str, Any]) -> Receipt:
        msg = self.compose(delivery)
        recipients = self.to + self.cc
        started = time.monotonic()

        def failed(reason: str, retryable: bool, code: int | None = None, answer: str | None = None) -> Failed:
            attempt = Attempt(1, "retry" if retryable else "failed", reason, status_code=code, response=answer,
                              duration_ms=round((time.monotonic() - started) * 1000, 1))
            return Failed(reason, [attempt], retryable=retryable)

        try:
            with self._connect() as smtp:
                refused = smtp.send_message(msg, to_addrs=recipients)
        except _NoStartTls as exc:
            raise failed(str(exc), True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: code for addr, (code, _) in exc.recipients.items()}
            detail = "; ".join(f"{addr}: {code} {_text(err)}" for addr, (code, err) in exc.recipients.items())
            temporary = any(400 <= c < 500 for c in codes.values())
            raise failed(f"{self.server} refused every recipient: {detail}", temporary,
                         max(codes.values()), detail) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise failed(f"{self.server} refused the hub's SMTP login: {exc.smtp_code} {_text(exc.smtp_error)}",
                         True, exc.smtp_code, _text(exc.smtp_error)) from None
        except smtplib.SMTPResponseException as exc:
            raise failed(f"{self.server} answered {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code < 500,
                         exc.smtp_code, _text(exc.smtp_error)) from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise failed(f"could not send through {self.server}: {exc.__class__.__name__}: {exc}", True) from None
        detail = f"sent to {', '.join(recipients)} through {self.server}"
        if refused:
            detail += "; refused: " + "; ".join(f"{a}: {c} {_text(e)}" for a, (c, e) in refused.items())
        attempt = Attempt(1, "delivered", detail, status_code=250, response=detail,
                          duration_ms=round((time.monotonic() - started) * 1000, 1))
        return Receipt([attempt], detail, remote_ref=msg["Message-ID"])

    def close(self) -> None:
        pass


class _NoStartTls(Exception):
    pass


def _text(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)).strip()
