"""`python -m ingest replay --group kpis` rebuilds every metric from the start of history
into a new generation: the figures it gives are identical to the live ones it replaces."""

from __future__ import annotations

import contextlib
import io
import signal
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ingest import cli
from tests.integration.metrics.conftest import World
from tests.integration.metrics.history import END, START

TIMES = [datetime.fromisoformat(t) for t in ("2024-03-04T03:30:00+00:00",
                                             "2024-03-05T09:45:00+00:00",
                                             "2024-03-06T03:59:00+00:00")]  # fmt: skip


def figures(world: World) -> dict[tuple[Any, ...], Any]:
    found: dict[tuple[Any, ...], Any] = {}
    for metric in world.settings.metrics:
        for window in ("1h", "today"):
            for at in TIMES:
                found[(metric.name, window, at)] = world.query.value(metric.name, window, at)
        series = world.query.series(metric.name, START, END, "1h")
        found[(metric.name, "series")] = [(p.start, p.by, p.value) for p in series]
    counters = world.counters()
    found["late_events"] = counters.get("late_events")
    return found


def generation(world: World) -> int:
    with world.engine.connect() as conn:
        query = text("SELECT active FROM ingest_generations WHERE group_name = 'kpis'")
        return int(conn.execute(query).scalar_one())


def test_a_replay_gives_identical_figures_in_a_new_generation(world: World) -> None:
    before, live = figures(world), generation(world)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = cli.main(["--config", str(world.config_path), "replay", "--group", "kpis"])
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert code == 0, out.getvalue()
    assert "replaying in this process" in out.getvalue()
    assert generation(world) == live + 1
    after = figures(world)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, list(changed.items())[:5]
    assert before["late_events"] and len(before) > 30 * 7
