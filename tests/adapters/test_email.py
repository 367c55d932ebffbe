"""The e-mail adapter against a real SMTP server in the test process (aiosmtpd): what a kelurahan
office receives, in Indonesian or English, and how the SMTP server's refusals are told apart."""

from __future__ import annotations

import copy
import re
import shutil
import ssl
import subprocess
from typing import Any, Iterator

import pytest

import adapters
from adapters.email import EmailAdapter, SmtpServer
from hub.core import privacy, schemas
from hub.core.actions import Links
from hub.core.destinations import Destination
from hub.core.privacy import mask_text
from hub.settings.environment import Settings
from hub.settings.files import HubConfig
from tests.mailbox import free_port, smtp_server

DELIVERY: dict[str, Any] = {
    **copy.deepcopy(schemas.schema("delivery")["examples"][0]),
    "destination": "kelurahan-cilandak-timur",
    "complaint": {
        "title": "Lampu jalan mati",
        "text": "Lampu PJU mati sejak seminggu. Hubungi saya 0812-3456-7890, NIK 3174012345678901, "
                "siti.rahma@gmail.com.",
        "channel": "jaki", "external_ref": "JAKI-2026-000123",
        "location": {"address": "Jl. Melati 3", "kelurahan": "Cilandak Timur", "kecamatan": "Pasar Minggu",
                     "kota": "Jakarta Selatan", "latitude": -6.2871, "longitude": 106.8277},
        "attachments": ["https://jaki.example/foto/1.jpg", "javascript:alert(1)"],
    },  # no reporter: this destination declares no reporter_fields (see the privacy test below)
    "created_at": "2026-12-07T01:00:00Z",  # Monday 08:00 WIB
}
DELIVERY["classification"] = {**DELIVERY["classification"], "category": "street-lighting"}
DELIVERY["routing"] = {**DELIVERY["routing"], "rule_id": "street-lighting"}
LINKS = Links("test-secret", "http://hub.test")


def kelurahan(**options: Any) -> Destination:
    return Destination("kelurahan-cilandak-timur", "Kelurahan Cilandak Timur", "city-office", "email",
                       {"to": "kel.cilandaktimur@jakarta.go.id", **options})


def adapter(smtp_url: str, hub_config: HubConfig | None = None, **options: Any) -> EmailAdapter:
    settings = Settings(smtp_url=smtp_url, mail_from="LaporHub DKI <laporhub@jakarta.go.id>",
                        reply_address="balas@laporhub.jakarta.go.id", webhook_timeout=5)
    ctx = adapters.Context(None, settings, links=LINKS, policy=hub_config.policy if hub_config else None,
                           category_names=hub_config.taxonomy.names if hub_config else {})
    return EmailAdapter(kelurahan(**options), ctx)


@pytest.fixture
def smtp() -> Iterator[Any]:
    with smtp_server() as server:
        yield server


def test_the_email_adapter_is_an_installed_entry_point() -> None:
    assert adapters.load("email") is EmailAdapter


def test_a_delivery_arrives_as_multipart_indonesian_email(smtp: Any, hub_config: HubConfig) -> None:
    box, url = smtp
    receipt = adapter(url, hub_config, cc=["camat.pasarminggu@jakarta.go.id"]).deliver(DELIVERY)
    [msg] = box.wait(1)
    assert receipt.attempts[0].outcome == "delivered" and receipt.remote_ref == msg["Message-ID"]
    assert sorted(box.envelopes[0].rcpt_tos) == ["camat.pasarminggu@jakarta.go.id", "kel.cilandaktimur@jakarta.go.id"]
    assert msg["Subject"] == "[LaporHub] Aduan baru: Lampu jalan mati"
    assert msg["From"] == "LaporHub DKI <laporhub@jakarta.go.id>"
    assert msg["Cc"] == "camat.pasarminggu@jakarta.go.id"
    assert msg["X-LaporHub-Delivery-Id"] == DELIVERY["delivery_id"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    page = msg.get_body(("html",)).get_content()
    for body in (text, page):
        assert "Lampu PJU mati sejak seminggu" in body
        assert "Jl. Melati 3, Cilandak Timur, Pasar Minggu, Jakarta Selatan" in body
        assert "https://www.openstreetmap.org/?mlat=-6.2871&amp;mlon=106.8277" in body.replace("&mlon", "&amp;mlon")
        assert "Penerangan jalan umum" in body  # the category's Indonesian name
        assert "biasa" in body  # urgency normal
        # Default limits: acknowledge in 6 working hours, resolve in 56 (7 working days of 8 hours).
        assert "Senin, 7 Desember 2026 pukul 14.00 WIB" in body
        assert "Selasa, 15 Desember 2026 pukul 16.00 WIB" in body
        assert "JAKI-2026-000123" in body
        # Identifiers in the text are masked; there is no reporter to show.
        assert "0812-3456-7890" not in body and "3174012345678901" not in body
        assert "siti.rahma@gmail.com" not in body and "Pelapor" not in body
        assert mask_text("3174012345678901") in body and mask_text("siti.rahma@gmail.com") in body
        assert "javascript:" not in body
    assert "Terima aduan" in page and "Bukan wewenang kami" in page


REPORTED = {**DELIVERY["complaint"], "reporter": {"name": "Siti", "email": "siti.rahma@gmail.com",
                                                  "phone": "081234567890"}}


@pytest.mark.parametrize("choice, allowed, shown, hidden, notice", [
    ("public", (), [], ["Siti", "siti.rahma@gmail.com", "081234567890", "Pelapor"], None),
    ("public", ("phone",), ["081234567890"], ["Siti", "siti.rahma@gmail.com"], None),
    ("confidential", ("name", "phone"), ["Siti", "081234567890"], ["siti.rahma@gmail.com"], "Rahasia"),
    ("anonymous", ("name", "email", "phone"), [], ["Siti", "siti.rahma@gmail.com", "081234567890"], "Anonim"),
])
def test_the_email_carries_what_privacy_allows_this_destination_as_a_webhook_would(
        smtp: Any, choice: str, allowed: tuple[str, ...], shown: list[str], hidden: list[str],
        notice: str | None) -> None:
    # The delivery as routing builds it for a destination declaring `allowed` reporter fields.
    complaint = privacy.outbound_complaint({**REPORTED, "privacy": choice}, allowed)
    box, url = smtp
    adapter(url).deliver({**DELIVERY, "complaint": complaint})
    [msg] = box.wait(1)
    for body in (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()):
        assert all(value in body for value in shown), shown
        assert not any(value in body for value in hidden), hidden
        assert "0812-3456-7890" not in body and "3174012345678901" not in body
        assert (notice in body) if notice else ("Rahasia" not in body and "Anonim" not in body)


def test_every_action_link_is_signed_for_this_delivery(smtp: Any) -> None:
    box, url = smtp
    adapter(url).deliver(DELIVERY)
    [msg] = box.wait(1)
    text = msg.get_body(("plain",)).get_content()
    found = re.findall(r"http://hub\.test/act/(\S+)", text)
    claims = [LINKS.check(token) for token in found]
    assert sorted(c.action for c in claims) == ["acknowledge", "not_ours", "progress", "resolve"]
    assert {(c.delivery_id, c.complaint_id, c.destination) for c in claims} == {
        (DELIVERY["delivery_id"], DELIVERY["complaint_id"], "kelurahan-cilandak-timur")}
    html_links = re.findall(r"href='http://hub\.test/act/([^']+)'", msg.get_body(("html",)).get_content())
    assert sorted(LINKS.check(t).action for t in html_links) == sorted(c.action for c in claims)


def test_the_reply_to_address_leads_back_to_the_delivery(smtp: Any) -> None:
    box, url = smtp
    adapter(url).deliver(DELIVERY)
    [msg] = box.wait(1)
    assert msg["Reply-To"].startswith("balas+") and msg["Reply-To"].endswith("@laporhub.jakarta.go.id")
    assert LINKS.delivery_of_reply(msg["Reply-To"]) == DELIVERY["delivery_id"]


def test_a_destination_that_reads_english_gets_english(smtp: Any, hub_config: HubConfig) -> None:
    box, url = smtp
    adapter(url, hub_config, language="en").deliver(DELIVERY)
    [msg] = box.wait(1)
    text = msg.get_body(("plain",)).get_content()
    assert msg["Subject"] == "[LaporHub] New complaint: Lampu jalan mati"
    assert msg["Content-Language"] == "en"
    assert "Street lighting" in text and "Monday 7 December 2026, 14:00 WIB" in text
    assert "Acknowledge: http://hub.test/act/" in text and "Not ours: http://hub.test/act/" in text


def test_a_second_send_says_so(smtp: Any) -> None:
    box, url = smtp
    adapter(url).deliver({**DELIVERY, "handoff": {"hop": 1, "from": "pam-jaya", "kind": "rejected",
                                                  "reason": "bukan pipa PAM", "send": 2}})
    [msg] = box.wait(1)
    assert msg["Subject"].startswith("[LaporHub] Aduan dikirim ulang:")
    assert "Diteruskan dari pam-jaya: bukan pipa PAM" in msg.get_body(("plain",)).get_content()
    token = re.search(r"http://hub\.test/act/(\S+)", msg.get_body(("plain",)).get_content()).group(1)
    assert LINKS.check(token).send == 2


def test_the_hubs_smtp_login_is_used() -> None:
    with smtp_server(login=("laporhub", "p@ss word")) as (box, url):
        assert url.startswith("smtp://laporhub:")
        good = url.replace("p@ss word", "p%40ss%20word")
        adapter(good).deliver(DELIVERY)
        assert len(box.wait(1)) == 1
        with pytest.raises(adapters.Failed) as err:
            adapter(good.replace("word@", "wrong@")).deliver(DELIVERY)
        assert err.value.retryable and "refused the hub's SMTP login: 535" in err.value.reason


def test_a_mailbox_that_does_not_exist_is_not_retried(smtp: Any) -> None:
    box, url = smtp
    box.refuse["kel.cilandaktimur@jakarta.go.id"] = "550 5.1.1 mailbox unavailable"
    with pytest.raises(adapters.Failed) as err:
        adapter(url).deliver(DELIVERY)
    assert not err.value.retryable
    assert "550" in err.value.reason and "mailbox unavailable" in err.value.reason
    [attempt] = err.value.attempts  # as the endpoint's attempt log shows it
    assert (attempt.outcome, attempt.status_code) == ("failed", 550)
    assert "mailbox unavailable" in attempt.response and attempt.duration_ms >= 0


def test_a_full_mailbox_is_retried(smtp: Any) -> None:
    box, url = smtp
    box.refuse["kel.cilandaktimur@jakarta.go.id"] = "452 4.2.2 mailbox full"
    with pytest.raises(adapters.Failed) as err:
        adapter(url).deliver(DELIVERY)
    assert err.value.retryable and "452" in err.value.reason


def test_a_copy_refused_still_delivers_to_the_office(smtp: Any) -> None:
    box, url = smtp
    box.refuse["old@jakarta.go.id"] = "550 no such user"
    receipt = adapter(url, cc="old@jakarta.go.id").deliver(DELIVERY)
    assert "refused: old@jakarta.go.id: 550 no such user" in receipt.detail
    assert box.envelopes[0].rcpt_tos == ["kel.cilandaktimur@jakarta.go.id"]


def test_a_server_that_is_down_is_retried() -> None:
    with pytest.raises(adapters.Failed) as err:
        adapter(f"smtp://127.0.0.1:{free_port()}").deliver(DELIVERY)
    assert err.value.retryable and "could not send through smtp://127.0.0.1" in err.value.reason


def test_starttls_required_but_not_offered_is_a_retryable_failure(smtp: Any) -> None:
    _, url = smtp
    with pytest.raises(adapters.Failed) as err:
        adapter(url + "?starttls=required").deliver(DELIVERY)
    assert err.value.retryable and "does not offer STARTTLS" in err.value.reason


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example:587?starttls=required", ("mail.example", 587, False, "required", None)),
    ("smtps://u:p%40x@mail.example", ("mail.example", 465, True, "never", "u")),
    ("smtp://relay", ("relay", 25, False, "auto", None)),
])
def test_smtp_urls(url: str, expected: tuple) -> None:
    s = SmtpServer.from_url(url)
    assert (s.host, s.port, s.implicit_tls, s.starttls, s.username) == expected


@pytest.mark.parametrize("url, words", [("", "LAPORHUB_SMTP_URL"), ("http://x", "smtp:// or smtps://"),
                                        ("smtp://x?starttls=maybe", "starttls must be")])
def test_bad_smtp_urls_are_named(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        SmtpServer.from_url(url)


@pytest.mark.parametrize("options, field", [({"to": "not-an-address"}, "to"), ({"to": "a@b.id", "language": "fr"}, "language"),
                                            ({"to": "a@b.id", "bcc": "x@y.id"}, "bcc")])
def test_bad_options_are_named_by_field(options: dict, field: str) -> None:
    dest = Destination("k", "K", "city-office", "email", options)
    # Checked by hub.core.options.check against the adapter's options_schema; refused as every
    # adapter refuses bad options (ValueError naming the destination), each bad field named.
    with pytest.raises(ValueError, match=rf"destination 'k': .*options\.{field}\b"):
        EmailAdapter(dest, adapters.Context(None, Settings(smtp_url="smtp://x"), links=LINKS))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


def tls_pair(certificate: tuple[str, str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(*certificate)
    client = ssl.create_default_context(cafile=certificate[0])  # trusts only the test certificate
    return server, client


def tls_adapter(url: str, client: ssl.SSLContext) -> EmailAdapter:
    settings = Settings(smtp_url=url, mail_from="laporhub@jakarta.go.id", webhook_timeout=5)
    return EmailAdapter(kelurahan(), adapters.Context(None, settings, links=LINKS), tls_context=client)


def test_starttls_is_used_when_required(certificate: tuple[str, str]) -> None:
    server, client = tls_pair(certificate)
    with smtp_server(login=("laporhub", "rahasia"), tls_context=server, require_starttls=True) as (box, url):
        tls_adapter(url + "?starttls=required", client).deliver(DELIVERY)
        assert len(box.wait(1)) == 1
        with pytest.raises(adapters.Failed) as err:  # without STARTTLS the server refuses to go on
            tls_adapter(url + "?starttls=never", client).deliver(DELIVERY)
        assert "530" in err.value.reason


def test_smtps_speaks_tls_from_the_first_byte(certificate: tuple[str, str]) -> None:
    server, client = tls_pair(certificate)
    with smtp_server(ssl_context=server) as (box, url):
        tls_adapter(url.replace("smtp://", "smtps://"), client).deliver(DELIVERY)
        assert len(box.wait(1)) == 1
        with pytest.raises(adapters.Failed) as err:  # a certificate the hub does not trust
            tls_adapter(url.replace("smtp://", "smtps://"), ssl.create_default_context()).deliver(DELIVERY)
        assert err.value.retryable and "SSLCertVerificationError" in err.value.reason
