"""Replies by e-mail: the new text of a reply (quoted history, signatures and "Sent from my phone"
lines stripped by mail-parser-reply), and the status its first words name. Pure.

mail-parser-reply knows the quote headers of many mail clients' languages but not Indonesian;
`INDONESIAN` adds Gmail's ("Pada ... menulis:") and Outlook's ("Dari: / Dikirim: / Kepada:")
so replies from Indonesian-language mail clients are cut where the quoted e-mail starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

INDONESIAN = {
    "wrote_header": r"^(" + QUOTED_MATCH_INCLUDE + r"Pada\s(?:.+?\s?.+?)\s?menulis:)$",
    "from_header": r"((?:(?:^|\n|\n" + QUOTED_MATCH_INCLUDE
                   + r")[* ]*(?:Dari|Dikirim|Kepada|Subjek|Perihal|Tanggal|Cc):[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
    "disclaimers": [r"(?:Pemberitahuan|Peringatan|Catatan) ?(?:Kerahasiaan|Penting)?:"],
    "signatures": [r"Salam(?: hormat)?,", r"Hormat (?:kami|saya),", r"Terima ?kasih,", r"Wassalam"],
    "sent_from": "Dikirim dari|Kirim dari",
}
MAIL_LANGUAGES.setdefault("id", INDONESIAN)
_PARSER = EmailReplyParser(languages=["id", "en"])

# The first words of a reply that name a status, Indonesian and English (longest first).
STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("bukan wewenang kami", "rejected"), ("bukan wewenang", "rejected"), ("bukan kewenangan", "rejected"), ("bukan urusan kami", "rejected"),
    ("not ours", "rejected"), ("not our", "rejected"), ("salah alamat", "rejected"),
    ("sedang diproses", "in_progress"), ("dalam proses", "in_progress"), ("in progress", "in_progress"),
    ("sudah selesai", "resolved"), ("sudah beres", "resolved"),
    ("selesai", "resolved"), ("beres", "resolved"), ("resolved", "resolved"), ("done", "resolved"),
    ("fixed", "resolved"), ("diproses", "in_progress"), ("proses", "in_progress"),
    ("progress", "in_progress"), ("ditangani", "in_progress"),
    ("diterima", "acknowledged"), ("acknowledged", "acknowledged"),
    ("received", "acknowledged"), ("ack", "acknowledged"),
)


@dataclass(frozen=True)
class Reply:
    """What a reply says: its new text, and the status its first words name (None: a note)."""

    text: str
    status: str | None
    rest: str  # the text after the status words: the note, resolution note or reason

    def as_dict(self) -> dict[str, str | None]:
        return {"text": self.text, "status": self.status, "rest": self.rest}


def latest(body: str) -> str:
    """The reply's own text, without the e-mail it quotes."""
    parsed = _PARSER.read(body.replace("\r\n", "\n"))
    text = parsed.replies[0].body if parsed.replies else ""
    # Plain-text clients quote with "> " without any header line: drop those lines too.
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def leading_status(text: str) -> tuple[str | None, str]:
    """(status, the rest) when the text starts with a status word, else (None, text)."""
    words = re.sub(r"\s+", " ", text.strip())
    low = words.lower()
    for phrase, status in STATUS_WORDS:
        if low == phrase or re.match(re.escape(phrase) + r"(?=[\s.,:;!\-–—]|$)", low):
            rest = words[len(phrase):].lstrip(" .,:;!-–—")
            return status, rest
    return None, words


def read(body: str) -> Reply:
    text = latest(body)
    status, rest = leading_status(text)
    return Reply(text, status, rest)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "script", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "blockquote"):
            self.parts.append("\n")
        if tag == "blockquote":  # quoted history in HTML mail
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "blockquote"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def body_text(message: EmailMessage) -> str:
    """The message's plain-text body, or its HTML body as text when it has no plain part."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":
        parser = _Text()
        parser.feed(content)
        content = "".join(parser.parts)
    return content


def recipients(message: EmailMessage) -> list[str]:
    """Every address the message was sent to, as the gateway saw it (envelope headers first)."""
    headers = ("X-Original-To", "Delivered-To", "Envelope-To", "To", "Cc")
    found = getaddresses([v for h in headers for v in message.get_all(h, [])])
    return [addr for _, addr in found if addr]


_AUTO_SUBJECT = re.compile(r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
                           r"balasan otomatis|sedang cuti|di luar kantor|undeliverable|delivery status notification)",
                           re.IGNORECASE)


def automatic(message: EmailMessage) -> str | None:
    """Why the message is an automatic one (out-of-office, bounce) and not a person's reply, or
    None. RFC 3834's Auto-Submitted first, then what common mail systems send instead."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if message.get(header):
            return f"{header} is set"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("auto_reply", "bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        return "a delivery status report (bounce)"
    subject = str(message.get("Subject", ""))
    if _AUTO_SUBJECT.match(subject):
        return f"the subject says it is automatic ({subject[:60]!r})"
    return None
