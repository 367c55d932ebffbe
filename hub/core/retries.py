"""The hub's retry policy, decided here and nowhere else: how many times each loop tries, and how
long it waits in between. Pure; the loops that retry ask this module and do as it says:

- **quick**: an adapter's attempts at one delivery, in process (the webhook adapter): `attempts`
  tries, exponential backoff with jitter, an endpoint's Retry-After honoured up to the cap.
- **later**: a delivery that failed its quick attempts waits in the store by the long schedule
  (`Settings.webhook_schedule`, jittered), then is re-queued (hub/pipeline/retry.py, outcomes.later);
  once the schedule is used up it is dead.
- **messages**: a consumer whose handler fails on a message requeues it and, once it has failed
  GIVE_UP_AFTER times, dead-letters it; store or broker trouble is waited out (hub/infra/bus.py).
  The broker dead-letters a message delivered DELIVERY_LIMIT times (crashes that never reach the
  handler's end).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

# -- quick: one delivery's attempts, in process ----------------------------------------------------

BACKOFF_INITIAL = 0.5  # seconds before the second attempt, plus up to as much again in jitter


@dataclass(frozen=True)
class Quick:
    """`attempts` tries; between them an exponential backoff from `initial` (doubling, with up to
    `initial` of jitter) capped at `most`. Retry-After is honoured, but never past `most`."""

    attempts: int
    initial: float = BACKOFF_INITIAL
    most: float = 30.0

    @classmethod
    def of(cls, options: Mapping[str, Any], attempts: int, most: float) -> "Quick":
        """A destination's own `max_attempts`, `backoff_initial` and `backoff_max` options, else
        the hub's settings (`attempts`, `most`)."""
        return cls(int(options.get("max_attempts", attempts)), float(options.get("backoff_initial", BACKOFF_INITIAL)),
                   float(options.get("backoff_max", most)))

    def wait(self, attempt: int, retry_after: float | None = None,
             jitter: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait after failed attempt number `attempt` (from 1)."""
        spread = jitter(0, self.initial)
        try:
            backoff = self.initial * 2 ** (attempt - 1) + spread
        except OverflowError:
            backoff = self.most
        backoff = max(0.0, min(backoff, self.most))
        if retry_after is not None:
            return min(max(retry_after, backoff), self.most)
        return backoff


# -- later: the long schedule, in the store ----------------------------------------------------------

def later(step: int, schedule: Sequence[float], retry_after: float | None = None,
          rand: Callable[[], float] = random.random) -> float | None:
    """Seconds until retry number `step` (from 0): the schedule's entry with +/-20% jitter, never
    sooner than the endpoint's Retry-After; None once the schedule is used up (the delivery is dead)."""
    if step >= len(schedule):
        return None
    return max(schedule[step] * (0.8 + 0.4 * rand()), retry_after or 0.0)


def put_off(step: int, schedule: Sequence[float], retry_after: float | None = None,
            rand: Callable[[], float] = random.random) -> float:
    """Seconds to hold a delivery that was not tried (its circuit is open, `retry_after` until it
    lets a trial through): the current step's delay, jittered so the deliveries one open circuit
    holds do not all come back at once, and at least a second. `step` is not used up."""
    seconds = later(max(step, 0), schedule, retry_after, rand)
    return max(seconds if seconds is not None else 0.0, retry_after or 0.0, 1.0)


# -- messages: a consumer's handler failing on a message ---------------------------------------------

GIVE_UP_AFTER = 5  # failed deliveries of one message before the worker dead-letters it itself
DELIVERY_LIMIT = 10  # the broker's backstop (quorum queues' x-delivery-limit)
TRANSIENT_PATIENCE = 20.0  # seconds a worker waits out store or broker trouble with a message in hand


def transient_pause(waits: int) -> float:
    """Seconds before trying a message again after store or broker trouble, the `waits`-th time
    (from 0): 0.25 s doubling, at most 4 s."""
    return min(0.25 * 2 ** min(waits, 8), 4.0)


def requeue_pause(failures: int) -> float:
    """Seconds a worker pauses before requeueing a message that failed `failures` times."""
    return min(0.2 * failures, 2.0)
