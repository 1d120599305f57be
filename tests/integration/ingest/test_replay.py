"""`python -m ingest replay`: a new generation is built beside the live one, then switched."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select, text, update

from domain.clock import utc_now
from domain.eventstore import Checkpoint, EventStore
from ingest.config_loader import load_settings
from ingest.readmodel import status
from ingest.runtime import bootstrap
from ingest.status import STALE_AFTER
from tests.integration.ingest.helpers import (
    CountKey,
    History,
    active_generation,
    caught_up,
    dead_letter_rows,
    direct_counts,
    generations_present,
    handled_rows,
    kpis_group,
    projected_counts,
    recording_group,
    run_cli,
    running,
    wait_until,
    wallet,
    write_config,
)


def live_view(engine: Engine) -> tuple[int, Checkpoint, Counter[CountKey], int]:
    """In ONE snapshot: kpis' active generation, its checkpoint, its figures, and how many
    rows a rebuilt generation has so far (what a dashboard query would see at that moment)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            generation = int(
                conn.execute(
                    text("SELECT active FROM ingest_generations WHERE group_name = 'kpis'")
                ).scalar_one()
            )
            row = conn.execute(
                text(
                    "SELECT tx_id, position FROM ingest_checkpoints "
                    "WHERE group_name = 'kpis' AND segment = 0"
                )
            ).one()
            rows = conn.execute(
                text(
                    "SELECT event_type, minute, events FROM rm_event_counts WHERE generation = :g"
                ),
                {"g": generation},
            )
            counts = Counter({(str(r[0]), int(r[1])): int(r[2]) for r in rows})
            rebuilt = conn.execute(
                text("SELECT count(*) FROM rm_event_counts WHERE generation > :g"),
                {"g": generation},
            ).scalar_one()
    return generation, Checkpoint(int(row[0]), int(row[1])), counts, int(rebuilt)


def leftovers(engine: Engine) -> tuple[list[str], int]:
    """Rebuild checkpoints and pending replay requests still in the database."""
    with engine.connect() as conn:
        keys = conn.execute(
            text("SELECT group_name FROM ingest_checkpoints WHERE group_name LIKE '%@%'")
        ).scalars()
        requests = conn.execute(text("SELECT count(*) FROM ingest_requests")).scalar_one()
        return list(keys), int(requests)


def test_replay_while_running_keeps_the_live_figures_complete_and_then_switches(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=50)
    for _ in range(6):
        history.append_round(per_stream=10, streams_per_tx=50)  # 3,000 events
    # small batches: the rebuild takes 300 of them, long enough to be watched in progress
    config = write_config(tmp_path / "config.yaml", store_url, groups=[kpis_group(batch_size=10)])
    runtime = bootstrap(load_settings(config))
    stop_appending = threading.Event()
    few = {wallet(i) for i in range(1, 11)}

    def keep_appending() -> None:
        while not stop_appending.wait(0.02):
            history.append_round(per_stream=1, only=few)

    with running(runtime):
        wait_until(lambda: caught_up(engine, store, "kpis"), 20, "kpis to catch up")
        assert projected_counts(engine) == direct_counts(engine)
        assert run_cli("--config", str(config), "replay", "--group", "kpis", "--no-wait") == (
            0,
            "replay of kpis requested\n",
        )
        writer = threading.Thread(target=keep_appending)
        writer.start()
        during = 0
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                generation, checkpoint, counts, rebuilt = live_view(engine)
                if generation == 2:
                    break
                assert counts == direct_counts(engine, upto=checkpoint)
                during += rebuilt > 0
                time.sleep(0.03)
            else:
                raise AssertionError("the replay did not switch over within 60 s")
        finally:
            stop_appending.set()
            writer.join(10)
        wait_until(lambda: caught_up(engine, store, "kpis"), 20, "kpis to catch up again")

    assert during >= 3, "the rebuild should have been seen in progress several times"
    assert active_generation(engine, "kpis") == 2
    assert projected_counts(engine) == direct_counts(engine)
    assert sum(direct_counts(engine).values()) > 3000  # appends went on during the replay
    assert generations_present(engine) == {2}  # the old generation's rows are gone
    assert leftovers(engine) == ([], 0)


def test_replay_without_a_running_ingest_rebuilds_in_process_and_leaves_dead_letters_out(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    History(store, streams=10).append_round(per_stream=8, poison={(wallet(3), 5)})
    config = str(
        write_config(
            tmp_path / "config.yaml",
            store_url,
            groups=[kpis_group(), recording_group("parker", "dead_letter", batch_size=7)],
        )
    )
    assert run_cli("--config", config, "run", "--once")[0] == 0
    before = sorted(handled_rows(engine, "parker"))
    letters = dead_letter_rows(engine, "parker")

    code, out = run_cli("--config", config, "replay", "--group", "parker")

    assert code == 0
    assert out == "no running ingest owns parker: replaying in this process\n"
    assert active_generation(engine, "parker") == 2
    assert sorted(handled_rows(engine, "parker")) == before  # parked events stay out
    assert len(before) == 80 - 4
    assert dead_letter_rows(engine, "parker") == letters  # and are not parked twice
    assert leftovers(engine) == ([], 0)


def test_replay_takes_over_when_the_ingest_it_follows_goes_away(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    History(store, streams=10).append_round(per_stream=5)
    config = str(write_config(tmp_path / "config.yaml", store_url))
    assert run_cli("--config", config, "run", "--once")[0] == 0
    # As if an ingest had been killed a moment before its heartbeat turns stale.
    with engine.begin() as conn:
        conn.execute(
            update(status)
            .where(status.c.group_name == "kpis")
            .values(state="caught_up", heartbeat_at=utc_now() - STALE_AFTER + timedelta(seconds=1))
        )

    started = time.monotonic()
    code, out = run_cli("--config", config, "replay", "--group", "kpis")

    assert code == 0
    assert out == "the ingest running kpis stopped: replaying in this process\n"
    assert time.monotonic() - started >= 0.5  # it followed first
    assert active_generation(engine, "kpis") == 2
    assert projected_counts(engine) == direct_counts(engine)
    with engine.connect() as conn:
        state = conn.execute(select(status.c.state).where(status.c.group_name == "kpis"))
        assert state.scalar_one() == "stopped"
    assert leftovers(engine) == ([], 0)
