"""Personal data rules (UU PDP No. 27/2022): what of a complaint may leave the hub, and to whom.

Pure functions over plain data. Citizens type their NIK, KK and phone numbers and e-mail addresses
into free text; `mask_text` replaces them before text leaves the hub (adapter payloads, public
reads, log lines, error bodies). The original stays only in the store, for administrators.

Masking errs on the side of hiding: a run of digits that *may* hold an identifier is masked whole.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

# The reporter's choice (SP4N-LAPOR!): public, Rahasia (confidential), Anonim (anonymous).
PUBLIC, CONFIDENTIAL, ANONYMOUS = "public", "confidential", "anonymous"
CHOICES = (PUBLIC, CONFIDENTIAL, ANONYMOUS)
REPORTER_FIELDS = ("name", "email", "phone")

NIK_MASK = "[NIK/KK]"
PHONE_MASK = "[TELEPON]"
EMAIL_MASK = "[EMAIL]"
SECRET_MASK = "***"

# Complaint fields that are free text a citizen typed.
FREE_TEXT = ("title", "text")
FREE_TEXT_LOCATION = ("address", "kelurahan", "kecamatan", "kota")

_EMAIL = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+"          # local part (RFC 5322 atext and dots)
    r"\s*(?:@|\(at\)|\[at\])\s*"            # @, or the spelled-out (at) / [at]
    r"[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[\w-]+)+",
    re.IGNORECASE)
# A run of ASCII digit groups joined by up to three separators ("0812-3456 7890", "(021) 555 1234",
# "3174.0512.3456.0001"), with an optional leading "+".
_RUN = re.compile(r"\(?\+?[0-9]+(?:[\s\-.()/]{1,3}\+?[0-9]+)*")
_GROUP = re.compile(r"\+?[0-9]+")
ID_DIGITS = 16         # NIK and KK numbers have 16 digits
PHONE_MIN_DIGITS = 9   # 0812345678 has 10; 9 keeps short landlines like 021-55512 masked too


def _phone_start(groups: list[str]) -> int | None:
    """Index of the first digit group where an Indonesian phone number may start, if the digits
    from there on are enough for one: +62…, 62 8…, 08…, 0 + area code."""
    digits_after = [sum(len(g.lstrip("+")) for g in groups[i:]) for i in range(len(groups))]
    for i, g in enumerate(groups):
        d = g.lstrip("+")
        plus = g.startswith("+")
        looks = (plus or d.startswith("62") or d.startswith("0")) and digits_after[i] >= PHONE_MIN_DIGITS
        if looks:
            return i
        # A phone number glued to digits before it ("5081234567890", "1021-5551234"): look
        # inside the group for a 0 or 62 with enough digits after it.
        for at in range(1, len(d)):
            if (d[at] == "0" or d.startswith("62", at)) and digits_after[i] - at >= PHONE_MIN_DIGITS:
                return i
    return None


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    groups = _GROUP.findall(run)
    total = sum(len(g.lstrip("+")) for g in groups)
    if total >= ID_DIGITS:
        return NIK_MASK  # a NIK/KK, or digits that may hide one (or a phone glued to one)
    start = _phone_start(groups)
    if start is None:
        return run
    if start == 0:
        return PHONE_MASK
    # Keep what precedes the phone number in the run ("RT 05 0812…" keeps "05 ").
    cut = 0
    for g in groups[:start]:
        cut = run.index(g, cut) + len(g)
    head = run[:cut]
    sep = run[cut:len(run) - len(run[cut:].lstrip(" -.()/"))]
    return head + sep + PHONE_MASK


def mask_text(text: str) -> str:
    """`text` with every NIK/KK number, phone number and e-mail address replaced by a marker."""
    if not text:
        return text
    out = _EMAIL.sub(EMAIL_MASK, text)
    return _RUN.sub(_mask_run, out)


def has_identifier(text: str) -> bool:
    return mask_text(text) != text


def mask_value(value: Any) -> Any:
    """Every string inside `value` (dicts, lists, tuples) masked; other values unchanged."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return value


def choice(complaint: Mapping[str, Any]) -> str:
    """The reporter's privacy choice; the older `reporter.anonymous: true` means Anonim."""
    chosen = complaint.get("privacy")
    if chosen in CHOICES:
        return chosen
    if (complaint.get("reporter") or {}).get("anonymous"):
        return ANONYMOUS
    return PUBLIC


def for_storage(complaint: Mapping[str, Any]) -> dict[str, Any]:
    """The complaint as the hub may keep it: an anonymous reporter's identity is never stored."""
    doc = dict(complaint)
    chosen = choice(doc)
    if chosen != PUBLIC:
        doc["privacy"] = chosen
    if chosen == ANONYMOUS:
        doc.pop("reporter", None)
    return doc


def masked_complaint(complaint: Mapping[str, Any]) -> dict[str, Any]:
    """The complaint's free text (title, text, address parts) masked; the reporter removed."""
    doc = {k: v for k, v in complaint.items() if k != "reporter"}
    for key in FREE_TEXT:
        if isinstance(doc.get(key), str):
            doc[key] = mask_text(doc[key])
    loc = doc.get("location")
    if isinstance(loc, Mapping):
        doc["location"] = {k: mask_text(v) if k in FREE_TEXT_LOCATION and isinstance(v, str) else v
                           for k, v in loc.items()}
    return doc


def reporter_for(complaint: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any] | None:
    """The reporter fields a destination may receive: those it declares, never for Anonim."""
    reporter = complaint.get("reporter") or {}
    if choice(complaint) == ANONYMOUS:
        return None
    shown = {k: reporter[k] for k in REPORTER_FIELDS if k in allowed and reporter.get(k)}
    return shown or None


def outbound_complaint(complaint: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """What a destination receives of a complaint: text masked, only the reporter fields it may
    see, and the privacy choice so it knows how to treat the complaint."""
    doc = masked_complaint(complaint)
    doc.pop("category", None)
    doc.pop("privacy", None)
    reporter = reporter_for(complaint, allowed)
    if reporter:
        doc["reporter"] = reporter
    if choice(complaint) != PUBLIC:
        doc["privacy"] = choice(complaint)
    return doc


def round_coordinate(value: Any, places: int = 3) -> Any:
    """A coordinate rounded for public reads (3 decimals is about 110 m)."""
    return round(value, places) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def is_public(complaint: Mapping[str, Any]) -> bool:
    """May this complaint appear in reads without a key? Confidential (Rahasia) ones never do."""
    return choice(complaint) != CONFIDENTIAL


# -- credentials -----------------------------------------------------------------------------------

_SECRET_KEYS = re.compile(r"(secret|password|passwd|api[_-]?key|token|credential|authorization)", re.I)
_QUERY_SECRET = re.compile(r"([?&;](?:api[_-]?key|apikey|key|token|secret|password|access_token)=)[^&\s#\"']+", re.I)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]*)@", re.I)


def redact_url(url: str) -> str:
    """`amqp://user:pass@host/` -> `amqp://user:***@host/`: the password never shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{SECRET_MASK}@", url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:{SECRET_MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_urls_in(text: str) -> str:
    """Every `scheme://user:password@` and `?api_key=…` inside free text with the secret hidden."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{SECRET_MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: m[1] + SECRET_MASK, text)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEYS.search(key))


def redact_options(options: Any) -> Any:
    """Adapter options as they may be shown or audited: secrets, api keys and passwords hidden,
    passwords in URLs hidden."""
    if isinstance(options, Mapping):
        return {k: (SECRET_MASK if is_secret_key(str(k)) and v not in (None, "") else redact_options(v))
                for k, v in options.items()}
    if isinstance(options, (list, tuple)):
        return [redact_options(v) for v in options]
    if isinstance(options, str):
        return redact_urls_in(options)
    return options
