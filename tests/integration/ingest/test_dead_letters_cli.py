"""`python -m ingest dead-letters list|retry|discard`, offline and beside a running ingest."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import Engine

from domain.eventstore import EventStore
from ingest.config_loader import load_settings
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    caught_up,
    dead_letter_rows,
    direct_counts,
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

POISON = {(wallet(5), 3), (wallet(9), 2)}


def ledger_config(tmp_path: Path, url: str) -> Path:
    group = recording_group("ledger", "dead_letter", fixed_flag=str(tmp_path / "fixed"))
    return write_config(
        tmp_path / "config.yaml", url, groups=[kpis_group(), group], ingest={"batch_size": 20}
    )


def versions_handled(engine: Engine, stream: str) -> list[int]:
    """The stream's versions in the order the group applied them."""
    return [v for _, s, v in handled_rows(engine, "ledger") if s == stream]


def parked(engine: Engine, stream: str | None = None) -> list[int]:
    return [
        row["version"]
        for row in dead_letter_rows(engine, "ledger")
        if row["state"] == "parked" and stream in (None, row["stream_id"])
    ]


def test_dead_letters_are_listed_retried_after_a_fix_and_discarded(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=12)
    history.append_round(per_stream=6, poison=POISON)
    config = str(ledger_config(tmp_path, store_url))
    assert run_cli("--config", config, "run", "--once")[0] == 0

    code, listing = run_cli("--config", config, "dead-letters", "list", "--group", "ledger")
    assert code == 0
    lines = listing.splitlines()
    assert len(lines) == 4 + 5
    assert "parked" in lines[0] and f"position 27 {wallet(5)} v3 " in listing
    assert "HandlerRefusedError: refusing" in listing
    code, document = run_cli("--config", config, "dead-letters", "list", "--json")
    letters = json.loads(document)
    assert [d["position"] for d in letters] == sorted(d["position"] for d in letters)
    assert {(d["stream_id"], d["version"]) for d in letters} == {
        *[(wallet(5), v) for v in range(3, 7)],
        *[(wallet(9), v) for v in range(2, 7)],
    }

    code, out = run_cli("--config", config, "dead-letters", "retry", "--group", "ledger")
    assert code == 1
    assert out.startswith("retried 0, still failing 2")  # each stream stops at its first
    assert parked(engine) == [3, 4, 5, 6, 2, 3, 4, 5, 6]

    assert run_cli("--config", config, "dead-letters", "retry")[0] == 2  # --group is required
    assert run_cli("--config", config, "dead-letters", "discard", "--group", "ledger")[0] == 2

    (tmp_path / "fixed").touch()  # ship the fix
    code, out = run_cli(
        "--config", config, "dead-letters", "retry", "--group", "ledger", "--stream", wallet(5)
    )
    assert (code, out) == (0, "retried 4, still failing 0\n")
    assert versions_handled(engine, wallet(5)) == [1, 2, 3, 4, 5, 6]  # in version order
    assert parked(engine, wallet(5)) == []

    history.append_round(per_stream=2, only={wallet(5), wallet(9)})
    assert run_cli("--config", config, "run", "--once")[0] == 0
    assert versions_handled(engine, wallet(5)) == [1, 2, 3, 4, 5, 6, 7, 8]  # flows again
    assert parked(engine, wallet(9)) == [2, 3, 4, 5, 6, 7, 8]  # still parked

    code, out = run_cli(
        "--config", config, "dead-letters", "discard", "--group", "ledger", "--stream", wallet(9)
    )
    assert (code, out) == (0, "discarded 7\n")
    assert run_cli("--config", config, "dead-letters", "list")[1] == "no dead letters\n"
    assert {row["state"] for row in dead_letter_rows(engine, "ledger")} == {
        "retried",
        "discarded",
    }
    history.append_round(per_stream=1, only={wallet(9)})
    assert run_cli("--config", config, "run", "--once")[0] == 0
    assert versions_handled(engine, wallet(9)) == [1, 9]  # discarded ones are never applied
    assert projected_counts(engine) == direct_counts(engine)


def test_retry_and_discard_unpark_streams_while_the_ingest_runs_and_appends_go_on(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    history = History(store, streams=12)
    history.append_round(per_stream=6, poison=POISON)
    config = ledger_config(tmp_path, store_url)
    runtime = bootstrap(load_settings(config))
    errors: list[BaseException] = []

    def keep_appending(stream: str, started: threading.Event, done: threading.Event) -> None:
        """Append to ``stream`` (and a healthy one) before, during and after the command."""
        try:
            for i in range(500):
                history.append_round(per_stream=1, only={stream, wallet(2)})
                if i == 3:
                    started.set()
                if done.wait(0.02):
                    for _ in range(5):
                        history.append_round(per_stream=1, only={stream, wallet(2)})
                    return
        except BaseException as exc:
            errors.append(exc)
            started.set()

    def both_caught_up() -> bool:
        return all(caught_up(engine, store, g) for g in ("kpis", "ledger"))

    with running(runtime):
        wait_until(lambda: both_caught_up() and len(parked(engine)) == 9, 15, "parking")
        (tmp_path / "fixed").touch()
        for stream, action in ((wallet(5), "retry"), (wallet(9), "discard")):
            started, done = threading.Event(), threading.Event()
            writer = threading.Thread(target=keep_appending, args=(stream, started, done))
            writer.start()
            try:
                started.wait(10)
                code, out = run_cli(
                    "--config", str(config), "dead-letters", action, "--group", "ledger",
                    "--stream", stream,
                )  # fmt: skip
            finally:
                done.set()
                writer.join(30)
            assert errors == []
            assert code == 0, out
            wait_until(both_caught_up, 15, f"catching up after {action}")

    assert parked(engine) == []
    last = history.versions
    assert versions_handled(engine, wallet(5)) == list(range(1, last[wallet(5)] + 1))
    nine = versions_handled(engine, wallet(9))
    assert nine[0] == 1
    assert nine[1:] == list(range(nine[1], last[wallet(9)] + 1))  # flows again after the discard
    assert len(nine) >= 1 + 5
    assert versions_handled(engine, wallet(2)) == list(range(1, last[wallet(2)] + 1))
    assert projected_counts(engine) == direct_counts(engine)
