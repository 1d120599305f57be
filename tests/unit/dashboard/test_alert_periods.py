from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboard.loaders.alerts import periods

T0 = datetime(2024, 6, 30, 0, 0, tzinfo=UTC)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def changes(*rows: tuple[int, str, str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": i, "rule": r, "from_state": a, "to_state": b, "at": minutes(m)}
         for i, r, a, b, m in rows]
    )  # fmt: skip


def as_rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        (r.rule, r.state, r.start, None if pd.isna(r.end) else r.end) for r in frame.itertuples()
    ]


def test_each_state_but_normal_lasts_until_the_next_change():
    found = periods(
        changes((1, "a", "normal", "pending", 10), (2, "a", "pending", "firing", 15),
                (3, "a", "firing", "recovering", 40), (4, "a", "recovering", "normal", 50)),
        minutes(0), minutes(60),
    )  # fmt: skip
    assert as_rows(found) == [
        ("a", "pending", minutes(10), minutes(15)),
        ("a", "firing", minutes(15), minutes(40)),
        ("a", "recovering", minutes(40), minutes(50)),
    ]


def test_a_state_entered_before_the_range_starts_with_the_range_and_may_still_last():
    found = periods(changes((7, "b", "pending", "firing", -30)), minutes(0), minutes(60))
    assert as_rows(found) == [("b", "firing", minutes(0), None)]


def test_periods_that_ended_before_the_range_are_left_out():
    found = periods(
        changes((1, "c", "normal", "firing", -30), (2, "c", "firing", "normal", -10)),
        minutes(0), minutes(60),
    )  # fmt: skip
    assert found.empty


def test_rules_are_kept_apart():
    found = periods(
        changes((1, "x", "normal", "firing", 5), (2, "y", "normal", "no_data", 6),
                (3, "x", "firing", "normal", 20)),
        minutes(0), minutes(60),
    )  # fmt: skip
    assert as_rows(found) == [("x", "firing", minutes(5), minutes(20)),
                              ("y", "no_data", minutes(6), None)]  # fmt: skip
