"""`python -m ingest run --once` over SQLite and PostgreSQL: every event counted exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine

from domain.eventstore import EventStore
from ingest.config_loader import load_settings
from ingest.report import group_report
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    all_positions,
    caught_up,
    checkpoint_of,
    direct_counts,
    handled_rows,
    kpis_group,
    projected_counts,
    recording_group,
    run_cli,
    table_head,
    wait_until,
    write_config,
)


def test_run_once_projects_every_event_exactly_once(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=40)
    for _ in range(5):
        history.append_round(per_stream=5, streams_per_tx=15)  # 1,000 events in 15 commits
    config = write_config(
        tmp_path / "config.yaml",
        store_url,
        groups=[kpis_group(), recording_group("audit", "retry")],
        ingest={"batch_size": 64},
    )

    code, _ = run_cli("--config", str(config), "run", "--once")

    assert code == 0
    expected = direct_counts(engine)
    assert sum(expected.values()) == 1000
    assert projected_counts(engine) == expected
    assert checkpoint_of(engine, "kpis") == table_head(engine)
    assert [row[0] for row in handled_rows(engine, "audit")] == [
        row[0] for row in all_positions(engine)
    ]


def test_a_second_run_once_adds_only_the_new_events(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=20)
    history.append_round(per_stream=10)
    config = write_config(tmp_path / "config.yaml", store_url, ingest={"batch_size": 33})
    assert run_cli("--config", str(config), "run", "--once")[0] == 0
    first = projected_counts(engine)

    history.append_round(per_stream=3)
    assert run_cli("--config", str(config), "run", "--once")[0] == 0
    assert run_cli("--config", str(config), "run", "--once")[0] == 0  # nothing new: no change

    counts = projected_counts(engine)
    assert counts == direct_counts(engine)
    assert sum(counts.values()) == 260
    assert all(counts[key] >= n for key, n in first.items())  # earlier figures only grew
    assert sum((counts - first).values()) == 60


def test_a_running_ingest_stops_within_a_second_even_with_a_long_idle_wait(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    History(store, streams=5).append_round(per_stream=2)
    config = write_config(tmp_path / "config.yaml", store_url, ingest={"idle_wait_s": 30})
    runtime = bootstrap(load_settings(config))
    thread = threading.Thread(target=runtime.run, name="ingest-runtime")
    thread.start()
    try:
        wait_until(lambda: caught_up(engine, store, "kpis"), 15, "kpis to catch up")
        time.sleep(0.3)  # the group is now in its idle wait
        stopping = time.monotonic()
        runtime.stop.set()  # what SIGTERM does
        thread.join(10)
        took = time.monotonic() - stopping
    finally:
        runtime.stop.set()
        thread.join(30)
        runtime.close()
    assert took < 1.0, f"stopping took {took:.1f}s"
    assert group_report(store, engine)[0]["state"] == "stopped"
