"""Per-endpoint protection in a dispatcher: a circuit breaker and a rate limit (in-process)."""

from __future__ import annotations

import threading
import time
from typing import Callable


class CircuitBreaker:
    """Opens after `threshold` failures in a row; while open, deliveries are not attempted but
    rescheduled. After `cooldown` seconds one trial is let through (half-open)."""

    def __init__(self, threshold: int = 5, cooldown: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self.clock = threshold, cooldown, clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if self.clock() - self.opened_at >= self.cooldown and not self._trial:
                self._trial = True
                return True
            return False

    def remaining(self) -> float:
        return 0.0 if self.opened_at is None else max(0.0, self.cooldown - (self.clock() - self.opened_at))

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial or self.failures >= self.threshold:
                self.opened_at, self._trial = self.clock(), False


class RateLimit:
    """At most `per_second` requests a second to one endpoint (token bucket, burst of one second)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.clock, self.sleep = per_second, clock, sleep
        self.tokens, self.at = per_second, clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                t = self.clock()
                self.tokens = min(self.rate, self.tokens + (t - self.at) * self.rate)
                self.at = t
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            self.sleep(wait)
