"""hub.core.privacy: identifiers citizens type into free text never leave the hub.

Property tests (hypothesis) put NIK/KK numbers, phone numbers and e-mail addresses, written the
ways people write them, into arbitrary text and check that none survives masking.
"""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings, strategies as st

from hub.core import privacy

SEPARATORS = st.sampled_from(["", "", " ", "-", ".", " - "])


@st.composite
def niks(draw: st.DrawFn) -> str:
    """16 digits (a NIK or a KK number), plain or grouped as people write them."""
    digits = draw(st.text(string.digits, min_size=15, max_size=15))
    raw = draw(st.sampled_from("123456789")) + digits
    sep = draw(st.sampled_from(["", " ", ".", "-"]))
    if sep and draw(st.booleans()):
        return sep.join(raw[i:i + 4] for i in range(0, 16, 4))
    if sep:
        return f"{raw[:6]}{sep}{raw[6:12]}{sep}{raw[12:]}"
    return raw


@st.composite
def phones(draw: st.DrawFn) -> str:
    """Indonesian phone numbers: 08…, +62 8…, 62 8…, and landlines (021) / +62 21, with spaces
    and dashes where people put them."""
    prefix = draw(st.sampled_from(["08", "+628", "+62 8", "+62-8", "628", "62 8", "(021) ", "021-",
                                   "+62 21 ", "+6221"]))
    mobile = "8" in prefix
    rest = draw(st.text(string.digits, min_size=8 if mobile else 7, max_size=11 if mobile else 8))
    out = [prefix]
    for i, ch in enumerate(rest):
        if i and i % draw(st.integers(3, 5)) == 0:
            out.append(draw(SEPARATORS))
        out.append(ch)
    return "".join(out)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(r"[a-z0-9][a-z0-9._%+-]{0,20}", fullmatch=True))
    labels = draw(st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
                           min_size=1, max_size=3))
    tld = draw(st.sampled_from(["com", "id", "co.id", "go.id", "org", "net"]))
    return f"{local}@{'.'.join(labels)}.{tld}"


IDENTIFIERS = st.one_of(niks(), phones(), emails())
FILLER = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@st.composite
def texts_with_identifiers(draw: st.DrawFn) -> tuple[str, list[str]]:
    found = draw(st.lists(IDENTIFIERS, min_size=1, max_size=4))
    parts = [draw(FILLER)]
    for ident in found:
        parts += [ident, draw(FILLER)]
    return "".join(parts), found


def leaked(identifier: str, out: str) -> bool:
    """The identifier as written, or its bare digits, is still in `out`."""
    if identifier in out:
        return True
    digits = re.sub(r"\D", "", identifier)
    return "@" not in identifier and len(digits) >= 9 and digits in re.sub(r"[\s\-.()+/]", "", out)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(texts_with_identifiers())
def test_no_identifier_survives_masking(case: tuple[str, list[str]]) -> None:
    text, found = case
    out = privacy.mask_text(text)
    for ident in found:
        assert not leaked(ident, out), (ident, out)


@given(texts_with_identifiers())
def test_masking_is_idempotent(case: tuple[str, list[str]]) -> None:
    once = privacy.mask_text(case[0])
    assert privacy.mask_text(once) == once


@settings(max_examples=200)
@given(texts_with_identifiers(), texts_with_identifiers(), niks(), phones(), emails())
def test_an_outbound_complaint_carries_no_identifier(text: tuple[str, list[str]], title: tuple[str, list[str]],
                                                      nik: str, phone: str, email: str) -> None:
    complaint = {"text": text[0], "title": title[0], "channel": "jaki",
                 "location": {"address": f"Jl. Melati {phone}", "kelurahan": nik, "latitude": -6.2, "longitude": 106.8},
                 "reporter": {"name": "Budi", "phone": phone, "email": email}}
    out = repr(privacy.outbound_complaint(complaint, allowed=()))
    for ident in [*text[1], *title[1], nik, phone, email]:
        assert not leaked(ident, out), (ident, out)
    assert "Budi" not in out, "a destination that declares no reporter fields gets none"


def test_each_kind_is_named_by_its_marker() -> None:
    out = privacy.mask_text("NIK 3174051234560001, HP 0812-3456-7890, surel budi.s@gmail.com.")
    assert out == "NIK [NIK/KK], HP [TELEPON], surel [EMAIL]."


def test_ordinary_numbers_are_kept() -> None:
    text = "RT 05 RW 03 no. 12, Rp 150.000, sejak 08-12-2026, jam 10.30, 2 minggu, km 21"
    assert privacy.mask_text(text) == text


def test_a_phone_after_a_house_number_keeps_the_house_number() -> None:
    assert privacy.mask_text("rumah no 5 081234567890") == "rumah no 5 [TELEPON]"


def test_anonymous_reporters_are_not_stored() -> None:
    doc = privacy.for_storage({"text": "x", "channel": "jaki", "privacy": "anonymous",
                               "reporter": {"name": "Sari", "phone": "+62 812 2222 3333"}})
    assert "reporter" not in doc and doc["privacy"] == "anonymous"
    legacy = privacy.for_storage({"text": "x", "channel": "jaki",
                                  "reporter": {"name": "Sari", "anonymous": True}})
    assert "reporter" not in legacy and legacy["privacy"] == "anonymous"


def test_a_destination_gets_only_the_reporter_fields_it_declares() -> None:
    c = {"text": "x", "channel": "jaki", "reporter": {"name": "Sari", "phone": "0812", "email": "s@x.id"}}
    assert privacy.outbound_complaint(c, allowed=("phone",))["reporter"] == {"phone": "0812"}
    assert "reporter" not in privacy.outbound_complaint(c, allowed=())
    anon = {**c, "privacy": "anonymous"}
    assert "reporter" not in privacy.outbound_complaint(anon, allowed=privacy.REPORTER_FIELDS)


def test_confidential_complaints_are_not_public() -> None:
    assert not privacy.is_public({"text": "x", "channel": "jaki", "privacy": "confidential"})
    assert privacy.is_public({"text": "x", "channel": "jaki", "privacy": "anonymous"})
    assert privacy.is_public({"text": "x", "channel": "jaki"})


def test_coordinates_are_rounded_to_three_decimals() -> None:
    assert privacy.round_coordinate(-6.261537) == -6.262
    assert privacy.round_coordinate(None) is None


def test_passwords_in_urls_and_secret_options_are_redacted() -> None:
    assert privacy.redact_url("amqp://hub:s3cret@mq:5672//") == "amqp://hub:***@mq:5672//"
    assert privacy.redact_url("postgresql+psycopg://postgres@db/test") == "postgresql+psycopg://postgres@db/test"
    opts = {"endpoint": "https://u:pw@crm.example/open311", "api_key": "k-123", "secret": ["whsec_a", "whsec_b"],
            "timeout": 5, "nested": {"password": "x"}}
    shown = privacy.redact_options(opts)
    assert shown == {"endpoint": "https://u:***@crm.example/open311", "api_key": "***", "secret": "***",
                     "timeout": 5, "nested": {"password": "***"}}
    assert "pw@" not in privacy.redact_urls_in("connecting to https://u:pw@crm.example/x failed")
