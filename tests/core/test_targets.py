"""hub.core.targets: where the hub may send a webhook or an Open311 request (issue 11, item 4)."""

from __future__ import annotations

import pytest

from hub.core import targets


@pytest.mark.parametrize("url, resolved", [
    ("http://127.0.0.1:9/x", []), ("http://localhost/x", ["127.0.0.1"]), ("http://meta.example/x", ["169.254.169.254"]),
    ("http://intra.example/x", ["10.1.2.3"]), ("http://[::1]/x", []), ("http://m.example/", ["224.0.0.1"]),
    ("http://v6.example/", ["fd00::1"]), ("http://mapped.example/", ["::ffff:192.168.1.1"])])
def test_private_loopback_link_local_and_multicast_targets_are_refused(url: str, resolved: list[str]) -> None:
    with pytest.raises(targets.TargetRefused):
        targets.check(url, (), resolver=lambda host, port: resolved)


def test_a_listed_network_and_public_addresses_are_allowed() -> None:
    targets.check("http://127.0.0.1:8765/hooks/x", targets.networks("127.0.0.0/8"), resolver=lambda h, p: [])
    targets.check("https://pln.example/hook", (), resolver=lambda h, p: ["203.0.113.7"][:0] or ["8.8.8.8"])
    with pytest.raises(targets.TargetRefused):
        targets.check("javascript:alert(1)", ())
