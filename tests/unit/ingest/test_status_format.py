"""`ingest status` as a table, and when a status row counts as a live ingest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.report import format_report
from ingest.status import STALE_AFTER, is_alive

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def item(group: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "group": group,
        "state": "caught_up",
        "position": 120,
        "head": 120,
        "lag_events": 0,
        "lag_seconds": 0.0,
        "events_per_s": 0.0,
        "dead_letters": 0,
        "skipped": 0,
        "last_error": None,
        "replay": None,
    }
    return {**row, **overrides}


def test_the_table_has_one_aligned_line_per_group_under_a_header() -> None:
    table = format_report(
        [
            item("kpis", events_per_s=812.5),
            item(
                "marketing",
                state="retrying",
                position=97,
                lag_events=23,
                lag_seconds=4.2,
                last_error="HandlerFailedError: boom",
            ),
        ]
    )
    assert table.splitlines() == [
        "group      state      position  head  lag  lag s  ev/s   dead  skipped  last error",
        "kpis       caught_up  120       120   0    0.0    812.5  0     0        -",
        "marketing  retrying   97        120   23   4.2    0.0    0     0        "
        "HandlerFailedError: boom",
    ]


def test_a_long_error_is_cut_to_sixty_characters() -> None:
    table = format_report([item("kpis", last_error="x" * 200)])
    last = table.splitlines()[1].split()[-1]
    assert last == "x" * 57 + "..."


def test_a_running_replay_is_shown_beside_the_state() -> None:
    table = format_report([item("kpis", replay={"generation": 3, "position": 4500})])
    assert table.splitlines()[1].startswith("kpis   caught_up (replay g3 @ 4500)  120")


def test_a_row_with_a_recent_heartbeat_is_alive() -> None:
    row = {"state": "running", "heartbeat_at": NOW - STALE_AFTER + timedelta(seconds=1)}
    assert is_alive(row, NOW)


def test_a_row_whose_heartbeat_is_stale_is_not_alive() -> None:
    row = {"state": "running", "heartbeat_at": NOW - STALE_AFTER - timedelta(seconds=1)}
    assert not is_alive(row, NOW)


def test_a_row_of_a_cleanly_stopped_ingest_is_not_alive_even_if_recent() -> None:
    assert not is_alive({"state": "stopped", "heartbeat_at": NOW}, NOW)
    assert not is_alive({"state": "running", "heartbeat_at": None}, NOW)
