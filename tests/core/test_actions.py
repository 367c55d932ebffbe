"""Action links: a link does what it says, and only for the delivery and action it was made for;
a changed, cut or old link is refused with a reason a recipient can read."""

from __future__ import annotations

import pytest

from hub.core.actions import ACTIONS, LinkRefused, Links

DELIVERY = "d-2f6c1c1e-6a8e-5a57-9f39-0d9d3a3f7b11"


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_a_link_names_its_delivery_action_and_send() -> None:
    links = Links("s3cret", "https://hub.example/")
    claim = links.check(links.token(DELIVERY, "c-1", "kelurahan-x", "resolve", send=2))
    assert (claim.delivery_id, claim.complaint_id, claim.destination, claim.action, claim.send) == (
        DELIVERY, "c-1", "kelurahan-x", "resolve", 2)
    assert claim.status == "resolved"
    assert links.url("abc") == "https://hub.example/act/abc"


def test_every_action_becomes_a_lifecycle_status() -> None:
    assert ACTIONS == {"acknowledge": "acknowledged", "progress": "in_progress", "resolve": "resolved",
                       "not_ours": "rejected"}
    with pytest.raises(ValueError):
        Links("s", "").token(DELIVERY, "c-1", "x", "delete")


def test_two_links_for_the_same_action_differ_so_each_is_used_once() -> None:
    links = Links("s3cret", "")
    a, b = (links.token(DELIVERY, "c-1", "x", "acknowledge") for _ in range(2))
    assert a != b and links.check(a).nonce != links.check(b).nonce


@pytest.mark.parametrize("change", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: t[: len(t) // 2],  # cut short
    lambda t: "x" + t,  # payload changed
])
def test_a_changed_link_is_refused_as_tampered(change) -> None:
    links = Links("s3cret", "")
    with pytest.raises(LinkRefused) as err:
        links.check(change(links.token(DELIVERY, "c-1", "x", "acknowledge")))
    assert err.value.why == "tampered"
    assert "changed" in str(err.value)


def test_a_link_signed_with_another_secret_is_refused() -> None:
    token = Links("other", "").token(DELIVERY, "c-1", "x", "acknowledge")
    with pytest.raises(LinkRefused) as err:
        Links("s3cret", "").check(token)
    assert err.value.why == "tampered"


def test_a_link_expires_after_its_lifetime() -> None:
    clock = Clock()
    links = Links("s3cret", "", max_age=7 * 86400, clock=clock)
    token = links.token(DELIVERY, "c-1", "x", "acknowledge")
    clock.t += 7 * 86400 - 60
    assert links.check(token).action == "acknowledge"
    clock.t += 120
    with pytest.raises(LinkRefused) as err:
        links.check(token)
    assert err.value.why == "expired"
    assert "expired" in str(err.value) and "7 days" in str(err.value)


def test_a_reply_address_names_its_delivery_and_cannot_be_forged() -> None:
    links = Links("s3cret", "")
    address = links.reply_address(DELIVERY, "balas@laporhub.jakarta.go.id")
    local, domain = address.split("@")
    assert domain == "laporhub.jakarta.go.id" and local.startswith("balas+") and len(local) <= 64
    assert links.delivery_of_reply(address) == DELIVERY
    assert links.delivery_of_reply(f"Kelurahan <{address.upper()}>") == DELIVERY  # gateways fold case
    forged = address.replace(local[6:8], "00" if local[6:8] != "00" else "11", 1)
    assert links.delivery_of_reply(forged) is None
    assert links.delivery_of_reply("balas@laporhub.jakarta.go.id") is None
    assert Links("other", "").delivery_of_reply(address) is None
