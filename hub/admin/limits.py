"""Rate limits per API key: a token bucket for each key, holding `count` requests and refilled at
`count` per `seconds`. A channel's keys get its own limit when one is configured
(LAPORHUB_RATE_LIMITS="jaki=6000/60,web=300/60"), every other key the default
(LAPORHUB_RATE_LIMIT, "120/60"); "off" turns limiting off. Buckets live in the API process: with
several API processes behind a balancer, each allows its share."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

from hub.admin.keys import Principal
from hub.core.errors import RateLimited


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> "Rate | None":
        """'120/60' (requests per seconds); None for 'off' or '0'."""
        text = text.strip().lower()
        if text in ("off", "0", "none", ""):
            return None
        count, _, seconds = text.partition("/")
        try:
            rate = cls(int(count), float(seconds or 1))
        except ValueError:
            raise ValueError(f"rate limit {text!r} is not <requests>/<seconds>, e.g. 120/60") from None
        if rate.count < 1 or not (0 < rate.seconds < math.inf):
            raise ValueError(f"rate limit {text!r} needs at least 1 request over a positive number of seconds")
        return rate

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}"


class Limiter:
    def __init__(self, default: str, per_channel: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.default = Rate.parse(default)
        self.per_channel = {ch: Rate.parse(r) for ch, r in (per_channel or {}).items()}
        self.clock = clock
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)

    def rate_for(self, who: Principal, fallback: str | None = None) -> Rate | None:
        """The channel's own rate where configured; else `fallback` (a caller's stricter default)
        or the default. With limiting off, None whatever the fallback."""
        if who.role == "channel" and who.scope in self.per_channel:
            return self.per_channel[who.scope]
        if self.default is None or fallback is None:
            return self.default
        return Rate.parse(fallback)

    def spend(self, who: Principal, fallback: str | None = None, what: str = "this key",
              field: str = "authorization") -> None:
        """Take one request from the caller's bucket, or raise RateLimited with when to come back."""
        rate = self.rate_for(who, fallback)
        if rate is None:
            return
        per_second = rate.count / rate.seconds
        with self.lock:
            now = self.clock()
            tokens, at = self.buckets.get(who.key_id, (float(rate.count), now))
            tokens = min(float(rate.count), tokens + (now - at) * per_second)
            if tokens < 1:
                self.buckets[who.key_id] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1 - tokens) / per_second)), str(rate), what, field)
            self.buckets[who.key_id] = (tokens - 1, now)
