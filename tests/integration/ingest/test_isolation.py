"""A failing non-critical group never holds `kpis` back, whatever its error policy."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from domain.eventstore import EventStore
from ingest.config_loader import load_settings
from ingest.report import group_report
from ingest.runtime import Runtime, bootstrap
from tests.integration.ingest.handlers import fails_at_random, refusals
from tests.integration.ingest.helpers import (
    History,
    all_positions,
    caught_up,
    checkpoint_of,
    dead_letter_rows,
    direct_counts,
    handled_rows,
    kpis_group,
    projected_counts,
    recording_group,
    running,
    table_head,
    wait_until,
    wallet,
    write_config,
)

POISON = {(wallet(7), 4), (wallet(19), 8)}
StreamVersion = tuple[str, int]


def runtime_beside_kpis(tmp_path: Path, url: str, group: dict[str, Any]) -> Runtime:
    config = write_config(
        tmp_path / "config.yaml",
        url,
        groups=[kpis_group(), group],
        ingest={"batch_size": 50, "retry_initial_s": 0.05, "retry_max_s": 2.0},
    )
    return bootstrap(load_settings(config))


def assert_kpis_complete(store: EventStore, engine: Engine, report: dict[str, Any]) -> None:
    assert checkpoint_of(engine, "kpis") == table_head(engine)
    assert projected_counts(engine) == direct_counts(engine)
    assert report["kpis"]["state"] == "caught_up"
    assert report["kpis"]["lag_events"] == 0


def reports(store: EventStore, engine: Engine) -> dict[str, dict[str, Any]]:
    return {row["group"]: row for row in group_report(store, engine)}


def settled(store: EventStore, engine: Engine, **states: str) -> dict[str, dict[str, Any]]:
    """The report once every group named shows its state (a status row follows a batch)."""

    def report() -> dict[str, dict[str, Any]] | None:
        now = reports(store, engine)
        ok = all(now.get(group, {}).get("state") == state for group, state in states.items())
        return now if ok else None

    return wait_until(report, 10, f"the status to show {states}")


def parked_from_first_failure(
    events: list[tuple[int, str, int]], bad: set[StreamVersion]
) -> list[StreamVersion]:
    """Each stream's first bad event and every later event of that stream, in global order."""
    first: dict[str, int] = {}
    for _, stream, version in events:
        if (stream, version) in bad and stream not in first:
            first[stream] = version
    return [(s, v) for _, s, v in events if s in first and v >= first[s]]


def test_a_retrying_group_waits_at_its_failing_event_with_growing_backoff_while_kpis_go_on(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    History(store, streams=30).append_round(per_stream=10, poison=POISON, streams_per_tx=10)
    events = all_positions(engine)
    first_bad = next(i for i, (_, s, v) in enumerate(events) if (s, v) in POISON)
    bad_position = events[first_bad][0]
    runtime = runtime_beside_kpis(tmp_path, store_url, recording_group("fragile", "retry"))

    def attempts() -> list[float]:  # one isolated refusal of the failing event per attempt
        return [r.at for r in refusals("fragile") if r.batch_len == 1]

    with running(runtime):
        wait_until(lambda: len(attempts()) >= 5, 15, "five attempts at the failing event")
        wait_until(lambda: caught_up(engine, store, "kpis"), 15, "kpis to catch up")
        report = settled(store, engine, kpis="caught_up", fragile="retrying")

    assert {r.position for r in refusals("fragile") if r.batch_len == 1} == {bad_position}
    times = attempts()
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[3] > 2 * gaps[0], f"back-off did not grow: {gaps}"
    assert checkpoint_of(engine, "fragile").position == events[first_bad - 1][0]
    assert [row[0] for row in handled_rows(engine, "fragile")] == [e[0] for e in events[:first_bad]]
    fragile = report["fragile"]
    assert fragile["state"] == "retrying"
    assert fragile["lag_events"] == len(events) - first_bad
    assert f"refusing {events[first_bad][1]} v{events[first_bad][2]}" in fragile["last_error"]
    assert_kpis_complete(store, engine, report)


def test_dead_letters_park_the_failing_event_and_the_rest_of_its_stream_only(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=30)
    history.append_round(per_stream=10, poison=POISON, streams_per_tx=10)
    runtime = runtime_beside_kpis(tmp_path, store_url, recording_group("parker", "dead_letter"))

    with running(runtime):
        both = lambda: all(caught_up(engine, store, g) for g in ("kpis", "parker"))  # noqa: E731
        wait_until(both, 15, "both groups to catch up")
        history.append_round(per_stream=2, only={wallet(7), wallet(3)})  # while it runs
        wait_until(both, 15, "both groups to catch up with the new events")
        report = settled(store, engine, kpis="caught_up", parker="caught_up")

    events = all_positions(engine)
    expected_parked = parked_from_first_failure(events, POISON)
    letters = dead_letter_rows(engine, "parker")
    assert [(row["stream_id"], row["version"]) for row in letters] == expected_parked
    assert {row["state"] for row in letters} == {"parked"}
    first_letters = [row for row in letters if (row["stream_id"], row["version"]) in POISON]
    assert [row["reason"] for row in first_letters] == ["handler failed"] * 2
    assert all(row["error"].startswith("HandlerRefusedError: refusing") for row in first_letters)
    later = [row for row in letters if row not in first_letters]
    assert all("is parked behind its version" in row["reason"] for row in later)
    assert len(later) == 8 + 2  # wallet 7 v5..v12, wallet 19 v9..v10

    handled = [(s, v) for _, s, v in handled_rows(engine, "parker")]
    kept = [(s, v) for _, s, v in events if (s, v) not in expected_parked]
    assert Counter(handled) == Counter(kept)
    assert (wallet(3), 12) in handled  # the healthy stream's events appended while running
    assert report["parker"]["dead_letters"] == len(letters)
    assert report["parker"]["state"] == "caught_up"
    assert_kpis_complete(store, engine, report)


def test_skipped_events_are_recorded_counted_and_the_group_goes_on(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    History(store, streams=30).append_round(per_stream=10, poison=POISON, streams_per_tx=10)
    runtime = runtime_beside_kpis(tmp_path, store_url, recording_group("skipper", "skip"))

    with running(runtime):
        both = lambda: all(caught_up(engine, store, g) for g in ("kpis", "skipper"))  # noqa: E731
        wait_until(both, 15, "both groups to catch up")
        wait_until(lambda: reports(store, engine)["skipper"]["skipped"] == 2, 5, "status")
        report = settled(store, engine, kpis="caught_up", skipper="caught_up")

    letters = dead_letter_rows(engine, "skipper")
    assert sorted((row["stream_id"], row["version"]) for row in letters) == sorted(POISON)
    assert {row["state"] for row in letters} == {"skipped"}
    assert all(row["error"].startswith("HandlerRefusedError") for row in letters)
    events = all_positions(engine)
    handled = [(s, v) for _, s, v in handled_rows(engine, "skipper")]
    assert Counter(handled) == Counter((s, v) for _, s, v in events if (s, v) not in POISON)
    assert report["skipper"]["skipped"] == 2
    assert report["skipper"]["dead_letters"] == 0  # skipped events are not parked
    assert_kpis_complete(store, engine, report)


def random_failures(events: list[tuple[int, str, int]], fraction: float, seed: int) -> set:
    return {(s, v) for p, s, v in events if fails_at_random(p, fraction, seed)}


def test_bisect_isolates_random_failures_across_mixed_streams_under_dead_letter(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=40)
    for _ in range(25):
        history.append_round(per_stream=1, streams_per_tx=40)  # every commit mixes 40 streams
    events = all_positions(engine)
    bad = random_failures(events, 0.03, seed=11)
    per_batch = Counter(i // 200 for i, (_, s, v) in enumerate(events) if (s, v) in bad)
    assert max(per_batch.values()) >= 3, "the data should put several failures in one batch"
    group = recording_group("flaky", "dead_letter", fail_fraction=0.03, seed=11, batch_size=200)
    runtime = runtime_beside_kpis(tmp_path, store_url, group)

    with running(runtime):
        both = lambda: all(caught_up(engine, store, g) for g in ("kpis", "flaky"))  # noqa: E731
        wait_until(both, 20, "both groups to catch up")
        report = settled(store, engine, kpis="caught_up", flaky="caught_up")

    expected_parked = parked_from_first_failure(events, bad)
    letters = dead_letter_rows(engine, "flaky")
    assert sorted((row["stream_id"], row["version"]) for row in letters) == sorted(expected_parked)
    for stream in {s for s, _ in expected_parked}:  # each stream parked in version order
        versions = [row["version"] for row in letters if row["stream_id"] == stream]
        assert versions == sorted(versions)
    firsts = {(row["stream_id"], row["version"]) for row in letters if row["error"]}
    isolated = {r.position for r in refusals("flaky") if r.batch_len == 1}
    assert isolated == {p for p, s, v in events if (s, v) in firsts}
    handled = [(s, v) for _, s, v in handled_rows(engine, "flaky")]
    assert Counter(handled) == Counter(
        (s, v) for _, s, v in events if (s, v) not in set(expected_parked)
    )
    assert report["flaky"]["dead_letters"] == len(expected_parked)
    assert_kpis_complete(store, engine, report)


def test_bisect_isolates_random_failures_across_mixed_streams_under_skip(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=40)
    for _ in range(25):
        history.append_round(per_stream=1, streams_per_tx=40)
    events = all_positions(engine)
    bad = random_failures(events, 0.03, seed=5)
    group = recording_group("flaky", "skip", fail_fraction=0.03, seed=5, batch_size=200)
    runtime = runtime_beside_kpis(tmp_path, store_url, group)

    with running(runtime):
        both = lambda: all(caught_up(engine, store, g) for g in ("kpis", "flaky"))  # noqa: E731
        wait_until(both, 20, "both groups to catch up")
        wait_until(lambda: reports(store, engine)["flaky"]["skipped"] == len(bad), 5, "status")
        report = settled(store, engine, kpis="caught_up", flaky="caught_up")

    letters = dead_letter_rows(engine, "flaky")
    assert {(row["stream_id"], row["version"]) for row in letters} == bad
    assert len(letters) == len(bad) > 10
    assert {r.position for r in refusals("flaky") if r.batch_len == 1} == {
        p for p, s, v in events if (s, v) in bad
    }
    handled = [(s, v) for _, s, v in handled_rows(engine, "flaky")]
    assert Counter(handled) == Counter((s, v) for _, s, v in events if (s, v) not in bad)
    assert report["flaky"]["skipped"] == len(bad)
    assert_kpis_complete(store, engine, report)
