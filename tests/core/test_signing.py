"""Webhook signatures follow Standard Webhooks, checked against the spec's vector and its own library."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hub.core.signing import SignatureError, headers, secret_bytes, sign, verify

# The test vector published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_ZGV2LW9ubHktcGxuLXNlY3JldC0wMDAwMDAwMA=="
OTHER_SECRET = "whsec_ZGV2LW9ubHktcGFtLXNlY3JldC0wMDAwMDAwMA=="
BODY = b'{"complaint_id": "c-1", "category": "electricity", "text": "Listrik padam sejak pagi"}'


def test_sign_reproduces_the_standard_webhooks_test_vector():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_sign_gives_the_same_signature_for_str_and_bytes_bodies():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.encode()) == SPEC_SIGNATURE


def test_headers_reproduce_the_test_vector():
    h = headers([SPEC_SECRET], SPEC_ID, SPEC_BODY, timestamp=SPEC_TIMESTAMP)
    assert h == {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TIMESTAMP), "webhook-signature": SPEC_SIGNATURE}


def test_our_verify_accepts_the_test_vector():
    h = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TIMESTAMP), "webhook-signature": SPEC_SIGNATURE}
    assert verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TIMESTAMP + 10) == SPEC_ID


def test_headers_verify_with_the_independent_standardwebhooks_library():
    h = headers([SECRET], "msg_laporhub_1", BODY)
    assert Webhook(SECRET).verify(BODY, h) == {"complaint_id": "c-1", "category": "electricity",
                                               "text": "Listrik padam sejak pagi"}


def test_rotation_headers_verify_with_the_library_under_either_secret():
    h = headers([OTHER_SECRET, SECRET], "msg_laporhub_2", BODY)
    payload = {"complaint_id": "c-1", "category": "electricity", "text": "Listrik padam sejak pagi"}
    assert Webhook(SECRET).verify(BODY, h) == payload
    assert Webhook(OTHER_SECRET).verify(BODY, h) == payload


def test_the_library_rejects_our_headers_under_a_wrong_secret():
    h = headers([SECRET], "msg_laporhub_3", BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(BODY, h)


def test_the_library_rejects_our_headers_for_a_tampered_body():
    h = headers([SECRET], "msg_laporhub_4", BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY.replace(b"c-1", b"c-2"), h)


def test_our_verify_accepts_what_the_library_signs():
    ts = int(time.time())
    h = {"webhook-id": "msg_lib", "webhook-timestamp": str(ts),
         "webhook-signature": Webhook(SECRET).sign("msg_lib", datetime.fromtimestamp(ts, tz=timezone.utc),
                                               BODY.decode())}
    assert verify(SECRET, h, BODY) == "msg_lib"


def test_headers_use_the_current_time_by_default():
    before = int(time.time())
    h = headers([SECRET], "msg_now", BODY)
    assert before <= int(h["webhook-timestamp"]) <= int(time.time())


# --- our verify() refuses what it must -------------------------------------------------------

NOW = 1_764_400_000


@pytest.fixture
def signed() -> dict[str, str]:
    return headers([SECRET], "msg_hub", BODY, timestamp=NOW)


def test_verify_accepts_a_fresh_correct_signature(signed):
    assert verify(SECRET, signed, BODY, now=NOW + 299) == "msg_hub"


def test_verify_refuses_a_wrong_secret(signed):
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(OTHER_SECRET, signed, BODY, now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 3600, -86400])
def test_verify_refuses_stale_or_future_timestamps(signed, offset):
    with pytest.raises(SignatureError, match="tolerance"):
        verify(SECRET, signed, BODY, now=NOW + offset)


def test_verify_tolerance_is_configurable(signed):
    assert verify(SECRET, signed, BODY, now=NOW + 900, tolerance=1000) == "msg_hub"
    with pytest.raises(SignatureError):
        verify(SECRET, signed, BODY, now=NOW + 60, tolerance=30)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verify_refuses_missing_headers(signed, missing):
    del signed[missing]
    with pytest.raises(SignatureError, match=f"missing header {missing}"):
        verify(SECRET, signed, BODY, now=NOW)


def test_verify_refuses_a_non_integer_timestamp(signed):
    signed["webhook-timestamp"] = "yesterday"
    with pytest.raises(SignatureError, match="not an integer"):
        verify(SECRET, signed, BODY, now=NOW)


def test_verify_refuses_a_tampered_body(signed):
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(SECRET, signed, BODY.replace(b"electricity", b"water"), now=NOW)


def test_verify_refuses_a_changed_message_id(signed):
    signed["webhook-id"] = "msg_other"
    with pytest.raises(SignatureError):
        verify(SECRET, signed, BODY, now=NOW)


def test_verify_refuses_a_replayed_signature_with_a_new_timestamp(signed):
    # Moving the timestamp forward to pass the freshness check must break the signature.
    signed["webhook-timestamp"] = str(NOW + 1000)
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(SECRET, signed, BODY, now=NOW + 1000)


def test_verify_accepts_any_one_of_several_signatures_during_rotation():
    h = headers([OTHER_SECRET, SECRET], "msg_rot", BODY, timestamp=NOW)
    assert len(h["webhook-signature"].split(" ")) == 2
    assert verify(SECRET, h, BODY, now=NOW) == "msg_rot"
    assert verify(OTHER_SECRET, h, BODY, now=NOW) == "msg_rot"
    with pytest.raises(SignatureError):
        verify("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==", h, BODY, now=NOW)


def test_verify_ignores_signatures_of_other_versions(signed):
    value = signed["webhook-signature"].split(",", 1)[1]
    signed["webhook-signature"] = f"v2,{value}"
    with pytest.raises(SignatureError):
        verify(SECRET, signed, BODY, now=NOW)
    signed["webhook-signature"] = f"v2,{value} v1,{value}"
    assert verify(SECRET, signed, BODY, now=NOW) == "msg_hub"


def test_verify_reads_header_names_case_insensitively(signed):
    upper = {k.title(): v for k, v in signed.items()}
    assert verify(SECRET, upper, BODY, now=NOW) == "msg_hub"


def test_secret_is_the_base64_after_the_whsec_prefix():
    assert secret_bytes("whsec_aGVsbG8=") == b"hello"
    assert secret_bytes("aGVsbG8=") == b"hello"
    with pytest.raises(SignatureError, match="not base64"):
        secret_bytes("whsec_not base64!")
