"""The retry policy (hub/core/retries.py) as a specification: every loop that retries takes its
numbers from here, so these are the hub's attempt counts and waits."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from tenacity import wait_exponential_jitter

from hub.core import retries
from hub.core.retries import Quick


# -- quick: one delivery's attempts, in process ----------------------------------------------------

def test_quick_attempts_and_backoff_come_from_the_destination_else_the_hub_settings() -> None:
    assert Quick.of({}, attempts=5, most=30.0) == Quick(5, retries.BACKOFF_INITIAL, 30.0)
    assert Quick.of({"max_attempts": 2, "backoff_initial": 0.05, "backoff_max": 0.2}, attempts=5, most=30.0) == \
        Quick(2, 0.05, 0.2)


def test_quick_backoff_doubles_from_initial_with_up_to_initial_of_jitter_and_stops_at_most() -> None:
    policy = Quick(attempts=10, initial=0.5, most=30.0)
    none, full = (lambda a, b: a), (lambda a, b: b)
    assert [policy.wait(n, jitter=none) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert policy.wait(1, jitter=full) == 1.0
    assert policy.wait(7, jitter=none) == 30.0 and policy.wait(5000, jitter=none) == 30.0


def test_quick_honours_retry_after_but_never_past_most() -> None:
    policy = Quick(attempts=3, initial=0.5, most=30.0)
    none = lambda a, b: a  # noqa: E731
    assert policy.wait(1, retry_after=12.0, jitter=none) == 12.0
    assert policy.wait(1, retry_after=0.1, jitter=none) == 0.5, "a shorter Retry-After does not hurry it"
    assert policy.wait(1, retry_after=600.0, jitter=none) == 30.0


@pytest.mark.parametrize("initial, most", [(0.5, 30.0), (0.05, 0.2), (0.0, 30.0), (2.0, 5.0)])
def test_quick_waits_what_tenacitys_exponential_jitter_waited_before_the_policy_moved_here(
        initial: float, most: float) -> None:
    """The webhook adapter used tenacity's wait_exponential_jitter(multiplier=initial,
    max=most, jitter=initial); the same random draws give the same waits."""
    before = wait_exponential_jitter(multiplier=initial, max=most, jitter=initial)
    policy = Quick(attempts=10, initial=initial, most=most)
    saved = random.getstate()
    try:
        for attempt in range(1, 12):
            random.seed(attempt)
            expected = before(SimpleNamespace(attempt_number=attempt))  # type: ignore[arg-type]
            random.seed(attempt)
            assert policy.wait(attempt) == expected
    finally:
        random.setstate(saved)


# -- later: the long schedule ------------------------------------------------------------------------

def test_the_schedule_jitters_each_step_and_ends() -> None:
    schedule = (5, 300, 1800)
    assert retries.later(0, schedule, rand=lambda: 0.0) == 4.0
    assert retries.later(0, schedule, rand=lambda: 1.0) == pytest.approx(6.0)
    assert retries.later(1, schedule, rand=lambda: 0.5) == 300
    assert retries.later(3, schedule) is None


def test_the_schedule_never_retries_sooner_than_retry_after() -> None:
    assert retries.later(0, (5,), retry_after=120, rand=lambda: 0.5) == 120


def test_an_open_circuit_puts_a_delivery_off_by_its_step_at_least_until_a_trial_and_a_second() -> None:
    schedule = (5, 300)
    assert retries.put_off(-1, schedule, rand=lambda: 0.5) == 5, "no step used yet: the first one's delay"
    assert retries.put_off(1, schedule, rand=lambda: 0.5) == 300
    assert retries.put_off(0, schedule, retry_after=42.0, rand=lambda: 0.5) == 42.0
    assert retries.put_off(0, (), rand=lambda: 0.5) == 1.0, "even with no schedule, not at once"
    assert retries.put_off(0, (0.1,), rand=lambda: 0.5) == 1.0


# -- messages --------------------------------------------------------------------------------------

def test_store_or_broker_trouble_is_waited_out_doubling_from_a_quarter_second_to_four() -> None:
    assert [retries.transient_pause(n) for n in range(7)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert retries.transient_pause(10_000) == 4.0


def test_a_failing_message_is_requeued_after_a_pause_that_grows_to_two_seconds() -> None:
    assert [retries.requeue_pause(n) for n in (1, 2, 5, 10, 50)] == pytest.approx([0.2, 0.4, 1.0, 2.0, 2.0])


def test_a_worker_gives_up_on_a_message_before_the_broker_does() -> None:
    assert 1 < retries.GIVE_UP_AFTER < retries.DELIVERY_LIMIT
