"""The retry policy's back-off: doubling from the initial delay, capped, reset on success."""

from __future__ import annotations

from ingest.backoff import Backoff


def test_delays_double_from_the_initial_one_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=5.0)
    assert [backoff.next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert backoff.failures == 7


def test_a_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0)
    for _ in range(4):
        backoff.next_delay()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next_delay() == 1.0


def test_a_maximum_below_the_initial_delay_caps_even_the_first_delay() -> None:
    assert Backoff(initial=10.0, maximum=3.0).next_delay() == 3.0
