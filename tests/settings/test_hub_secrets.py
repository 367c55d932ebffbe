"""The e-mail destinations' hub-wide secrets (issue 14) under the secrets rules of issue 11: the
action-link key and the mail gateway's inbound secret each do one thing, so neither may be a
destination's webhook secret nor the other; inbound-mail secrets and SMTP passwords count as
secrets wherever options are sealed or shown."""

from __future__ import annotations

import pytest

from hub.core import privacy
from hub.core.destinations import Destination
from hub.settings import secrets
from hub.settings.environment import Settings

OUTBOUND = "whsec_" + "T3BlcmF0b3Itb3V0Ym91bmQtc2VjcmV0LTEyMzQ1Ng=="
CALLBACK = "whsec_" + "T3BlcmF0b3ItY2FsbGJhY2stc2VjcmV0LTEyMzQ1Ng=="
GATEWAY = "whsec_" + "Q2l0eS1tYWlsLWdhdGV3YXktc2VjcmV0LTEyMzQ1Ng=="
OPERATOR = Destination("pam-jaya", "PAM Jaya", "operator", "webhook",
                       {"url": "https://pam.example/hooks", "secret": [OUTBOUND], "callback_secret": CALLBACK})
KELURAHAN = Destination("kel-x", "Kelurahan X", "city-office", "email", {"to": "kel.x@jakarta.go.id"})


def problems(**settings: str) -> list[str]:
    return secrets.hub_problems(Settings(**settings), [OPERATOR, KELURAHAN])


def test_own_hub_secrets_are_accepted() -> None:
    assert problems(link_secret="a-link-key-of-its-own", inbound_email_secret=GATEWAY) == []
    assert problems() == []  # none set: links keep a key in the store, inbound mail is refused


@pytest.mark.parametrize("settings, named", [
    ({"link_secret": OUTBOUND}, "LAPORHUB_LINK_SECRET is also a destination's webhook secret"),
    ({"link_secret": CALLBACK}, "LAPORHUB_LINK_SECRET is also a destination's webhook secret"),
    ({"inbound_email_secret": OUTBOUND}, "LAPORHUB_INBOUND_EMAIL_SECRET is also a destination's webhook secret"),
    ({"inbound_email_secret": GATEWAY, "link_secret": GATEWAY}, "are the same"),
    ({"inbound_email_secret": "whsec_ZGV2LW9ubHktaW5ib3VuZC1nYXRld2F5LXNlY3JldA=="}, "is a dev secret"),
])
def test_a_hub_secret_that_is_not_its_own_is_named(settings: dict[str, str], named: str) -> None:
    found = problems(**settings)
    assert len(found) == 1 and named in found[0], found


def test_a_production_start_refuses_a_link_key_that_is_a_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.ALLOW_DEV, raising=False)
    monkeypatch.setenv(secrets.KEY_VAR, secrets.new_key())
    secrets.check([OPERATOR, KELURAHAN], Settings(link_secret="a-link-key-of-its-own"))
    with pytest.raises(secrets.SecretsError, match="LAPORHUB_LINK_SECRET is also"):
        secrets.check([OPERATOR, KELURAHAN], Settings(link_secret=OUTBOUND))


def test_inbound_mail_secrets_and_smtp_passwords_are_sealed_and_never_shown() -> None:
    options = {"inbound_email_secret": GATEWAY, "smtp_password": "pw-smtp-1", "link_secret": "lk-1",
               "smtp_url": "smtp://mailer:pw-url-2@mail.jakarta.go.id:587", "to": "kel.x@jakarta.go.id"}
    sealed = secrets.seal_options(options)
    for name in ("inbound_email_secret", "smtp_password", "link_secret", "smtp_url"):
        assert sealed[name].startswith(secrets.SEALED), name
    assert sealed["to"] == "kel.x@jakarta.go.id"
    assert secrets.unseal_options(sealed) == options
    shown = str(privacy.redact_options(options))
    for value in (GATEWAY, "pw-smtp-1", "lk-1", "pw-url-2"):
        assert value not in shown
