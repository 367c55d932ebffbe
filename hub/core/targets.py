"""Outbound safety (issue 11): where the hub may send a webhook or an Open311 request.

An administrator sets destination URLs; a URL that resolves to loopback, link-local (169.254.x:
cloud metadata), private or multicast addresses would let that setting reach the hub's own
network. Such targets are refused unless their network is listed in
LAPORHUB_ALLOW_PRIVATE_TARGETS (the demo and the tests list 127.0.0.0/8). Name resolution is
passed in, so tests need no network.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Callable, Iterable
from urllib.parse import urlsplit

from hub.core.errors import LaporHubError

Resolver = Callable[[str, int], list[str]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(LaporHubError):
    """A destination URL the hub will not send to, and why."""


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def networks(spec: str | Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.0/8, 10.1.0.0/16` as networks; raises ValueError naming a bad one."""
    items = spec.split(",") if isinstance(spec, str) else spec
    out = []
    for item in items:
        if item.strip():
            try:
                out.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"LAPORHUB_ALLOW_PRIVATE_TARGETS: {item.strip()!r} is not a network") from None
    return tuple(out)


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for name, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return name
    return None


def check(url: str, allowed: Iterable[Network] = (), resolver: Resolver = resolve) -> None:
    """Raise TargetRefused unless `url` is http(s) and every address it resolves to is public or in
    an `allowed` network."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("a destination URL must be http:// or https:// with a host")
    host = parts.hostname
    try:
        addresses = [host] if _is_ip(host) else resolver(host, port)
    except OSError:
        return  # unresolvable now: the request itself will fail (and be retried) without reaching anyone
    allowed = tuple(allowed)
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        kind = _kind(ip)
        if kind and not any(ip in net for net in allowed if net.version == ip.version):
            raise TargetRefused(f"{host} resolves to {kind} address {ip}; the hub does not send there "
                                "unless LAPORHUB_ALLOW_PRIVATE_TARGETS lists its network")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False
