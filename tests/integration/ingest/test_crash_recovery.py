"""Exactly once under SIGKILL: `python -m ingest run` and `replay` killed at random moments."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from domain.eventstore import START, Checkpoint, EventStore
from ingest.config_loader import load_settings
from ingest.readmodel import create_read_model
from ingest.rebuild import rebuild_key
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    active_generation,
    all_positions,
    checkpoint_of,
    direct_counts,
    generations_present,
    handled_rows,
    kpis_group,
    projected_counts,
    recording_group,
    table_head,
    wait_until,
    write_config,
)

ROOT = Path(__file__).resolve().parents[3]
KILLS = 5


def spawn(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`python -m ingest --config CONFIG ARGS` as a child process (its output goes to ``log``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEDGERLENS_LOG_LEVEL": "WARNING"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ingest", "--config", str(config), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill_when(
    proc: subprocess.Popen[bytes], working: Callable[[], bool], delay: float, log: Path
) -> None:
    """SIGKILL ``proc`` ``delay`` seconds after ``working()`` first holds."""
    try:
        wait_until(lambda: working() or proc.poll() is not None, 60, "the child's progress")
        time.sleep(delay)
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode in (-9, 0), log.read_text()


@pytest.mark.slow
def test_sigkilled_runs_and_replay_resume_to_exactly_the_figures_of_a_clean_run(
    store: EventStore,
    store_url: str,
    engine: Engine,
    other_database_url: str,
    tmp_path: Path,
) -> None:
    history = History(store, streams=500)
    for _ in range(25):
        history.append_round(per_stream=4, streams_per_tx=250)  # 50,000 events
    config = write_config(
        tmp_path / "config.yaml",
        store_url,
        groups=[kpis_group(), recording_group("audit", "retry")],
        ingest={"batch_size": 500},  # many commits for a kill to fall between
    )
    create_read_model(engine)  # so the checkpoints can be watched from the start
    log = tmp_path / "ingest.log"
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    head = table_head(engine)

    killed_at = []
    for _ in range(KILLS):
        before = (checkpoint_of(engine, "kpis"), checkpoint_of(engine, "audit"))
        if before == (head, head):
            break  # an earlier run got to the end before its kill: nothing left to interrupt
        proc = spawn(config, log, "run")

        def moved(before: tuple[Checkpoint, Checkpoint] = before) -> bool:
            return (checkpoint_of(engine, "kpis"), checkpoint_of(engine, "audit")) != before

        kill_when(proc, moved, rng.uniform(0.0, 0.1), log)
        killed_at.append(checkpoint_of(engine, "kpis").position)
    assert killed_at[0] < head.position, f"seed {seed}: the first kill came after the end"
    assert spawn(config, log, "run", "--once").wait(180) == 0, log.read_text()

    recovered = projected_counts(engine)
    clean = clean_run_counts(tmp_path, store_url, other_database_url)
    assert sum(recovered.values()) == 50_000
    assert recovered == clean, f"seed {seed}, killed at {killed_at}"
    assert recovered == direct_counts(engine)
    audited = Counter(position for position, _, _ in handled_rows(engine, "audit"))
    assert set(audited.values()) == {1}, f"seed {seed}: an event was applied twice"
    assert sorted(audited) == [position for position, _, _ in all_positions(engine)]

    # Now kill a replay half-way, then resume it.
    proc = spawn(config, log, "replay", "--group", "kpis")
    rebuilding = lambda: checkpoint_of(engine, rebuild_key("kpis", 2)) != START  # noqa: E731
    kill_when(proc, rebuilding, rng.uniform(0.0, 0.05), log)
    interrupted = checkpoint_of(engine, rebuild_key("kpis", 2)).position
    assert 0 < interrupted < head.position, f"seed {seed}: the replay was not interrupted"
    assert active_generation(engine, "kpis") == 1
    assert projected_counts(engine) == recovered  # the live figures were untouched
    resumed = spawn(config, log, "run", "--once")
    assert resumed.wait(180) == 0, log.read_text()

    assert active_generation(engine, "kpis") == 2
    assert projected_counts(engine) == recovered
    assert generations_present(engine) == {2}
    assert checkpoint_of(engine, rebuild_key("kpis", 2)) == START  # the rebuild's is gone


def clean_run_counts(tmp_path: Path, events_url: str, read_model_url: str) -> Counter:
    """The figures of one uninterrupted run into an empty read model over the same events."""
    config = write_config(tmp_path / "clean.yaml", events_url, ingest={"batch_size": 5000})
    settings = load_settings(config)
    settings = settings.model_copy(
        update={"read_model": settings.read_model.model_copy(update={"url": read_model_url})}
    )
    runtime = bootstrap(settings)
    try:
        assert runtime.run(once=True)
        return projected_counts(runtime.engine)
    finally:
        runtime.close()
