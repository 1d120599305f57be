"""`python -m ingest status [--json]`: where every group stands, while running and after."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from domain.clock import utc_now
from domain.eventstore import EventStore
from ingest.config_loader import load_settings
from ingest.report import group_report
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    all_positions,
    kpis_group,
    recording_group,
    run_cli,
    running,
    wait_until,
    wallet,
    write_config,
)

POISON = {(wallet(4), 3)}


def status_json(config: Path) -> dict[str, dict[str, Any]]:
    code, out = run_cli("--config", str(config), "status", "--json")
    assert code == 0
    return {row["group"]: row for row in json.loads(out)}


def test_status_before_any_run_tells_how_to_start_the_ingest(
    store_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.yaml", store_url)
    code, out = run_cli("--config", str(config), "status")
    assert (code, out.splitlines()[0]) == (
        0,
        "no processing group has run yet: start `python -m ingest run`",
    )
    assert run_cli("--config", str(config), "status", "--json") == (0, "[]\n")


def test_status_shows_position_head_lag_state_dead_letters_and_last_error(
    store: EventStore, store_url: str, engine: Engine, tmp_path: Path
) -> None:
    History(store, streams=20).append_round(per_stream=10, poison=POISON)
    events = all_positions(engine)
    first_bad = next(i for i, (_, s, v) in enumerate(events) if (s, v) in POISON)
    config = write_config(
        tmp_path / "config.yaml",
        store_url,
        groups=[
            kpis_group(),
            recording_group("fragile", "retry"),
            recording_group("parker", "dead_letter"),
            recording_group("busy", "skip", delay_s=0.04, batch_size=5),
        ],
        ingest={"batch_size": 50, "retry_initial_s": 0.05, "retry_max_s": 0.2},
    )
    runtime = bootstrap(load_settings(config))

    def report() -> dict[str, dict[str, Any]]:
        return {row["group"]: row for row in group_report(runtime.store, engine)}

    with running(runtime):
        busy = wait_until(
            lambda: report().get("busy", {}).get("state") == "running" and report()["busy"],
            10,
            "the slow group to be seen running",
        )
        settled = {"kpis": "caught_up", "parker": "caught_up", "busy": "caught_up"}

        def all_settled() -> bool:
            now = report()
            return all(now.get(g, {}).get("state") == s for g, s in settled.items()) and (
                now.get("fragile", {}).get("state") == "retrying"
            )

        wait_until(all_settled, 20, "every group to settle")
        live = status_json(config)
        code, table = run_cli("--config", str(config), "status")
        later = group_report(runtime.store, engine, now=utc_now() + timedelta(seconds=20))

    head = events[-1][0]
    assert busy["head"] == head
    assert 0 < busy["position"] < head
    assert busy["lag_events"] == head - busy["position"]
    assert busy["lag_seconds"] > 0

    kpis = live["kpis"]
    assert (kpis["position"], kpis["head"], kpis["lag_events"]) == (head, head, 0)
    assert (kpis["lag_seconds"], kpis["state"], kpis["dead_letters"]) == (0.0, "caught_up", 0)
    assert kpis["last_error"] is None and kpis["critical"] is True

    fragile = live["fragile"]
    assert fragile["state"] == "retrying"
    assert fragile["position"] == events[first_bad - 1][0]
    assert fragile["lag_events"] == len(events) - first_bad
    assert fragile["lag_seconds"] > 0
    assert fragile["last_error"].startswith(
        f"HandlerFailedError: handler failed at position {events[first_bad][0]}: "
        f"HandlerRefusedError: refusing {wallet(4)} v3"
    )
    assert fragile["last_error_at"] is not None

    parker = live["parker"]
    assert (parker["state"], parker["position"], parker["lag_events"]) == ("caught_up", head, 0)
    assert parker["dead_letters"] == 8  # wallet 4, v3..v10

    assert code == 0
    header, *lines = table.splitlines()[:5]  # the groups' table comes first
    assert header.split() == [
        "group", "state", "position", "head", "lag", "lag", "s", "ev/s", "dead", "skipped",
        "last", "error",
    ]  # fmt: skip
    assert [line.split()[:2] for line in lines] == [
        ["busy", "caught_up"],
        ["fragile", "retrying"],
        ["kpis", "caught_up"],
        ["parker", "caught_up"],
    ]
    assert {row["state"] for row in later} == {"stopped"}  # a heartbeat 20 s old is stale

    stopped = status_json(config)  # the runtime stopped cleanly
    assert {name: row["state"] for name, row in stopped.items()} == dict.fromkeys(
        ["busy", "fragile", "kpis", "parker"], "stopped"
    )
    assert stopped["fragile"]["position"] == fragile["position"]
    assert stopped["fragile"]["last_error"] == fragile["last_error"]
