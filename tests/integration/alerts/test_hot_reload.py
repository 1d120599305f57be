"""Hot reload under a running ingest: a real watchdog on the config file, real threads and
the wall clock. A valid edit applies within 2 s; an invalid one is refused, visible in
`python -m ingest status`, and the last good rules keep running."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from domain.eventstore import StreamAppend
from domain.serialization import to_new_event
from ingest import cli
from ingest.alerts.config_status import read_config_status
from ingest.alerts.tables import states
from ingest.config_loader import load_settings
from ingest.runtime import Runtime, bootstrap
from tests.integration.alerts.bench import METRICS
from tests.integration.alerts.history import minute_of_business

RULE = {"name": "busy", "metric": "deposit_count", "window": "10m", "condition": "> 1000"}


def document(url: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "database": {"url": url},
        "ingest": {"idle_wait_s": 0.2, "status_interval_s": 0.2},
        "metrics": METRICS,
        "alerts": {"evaluation_interval_s": 0.2, "rules": rules},
    }


def wait_for(condition: Callable[[], Any], timeout: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - began


@pytest.fixture
def running(tmp_path: Path, sqlite_db: str) -> Iterator[tuple[Runtime, Path]]:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(document(sqlite_db, [RULE])), encoding="utf-8")
    runtime = bootstrap(load_settings(config), config_path=config)
    now = datetime.now(UTC)
    runtime.store.append_streams([
        StreamAppend(f"wallet-H{n:06d}", "wallet", 0, [to_new_event(event, now)])
        for n, event in enumerate(minute_of_business(deposits=5))
    ])  # fmt: skip
    thread = threading.Thread(target=runtime.run, name="ingest-under-test")
    thread.start()
    try:
        yield runtime, config
    finally:
        runtime.stop.set()
        thread.join(30)
        runtime.close()


def alert(runtime: Runtime) -> dict[str, Any] | None:
    with runtime.engine.connect() as conn:
        row = conn.execute(select(states).where(states.c.rule == "busy")).mappings().first()
    return None if row is None else dict(row)


def test_a_threshold_edit_applies_within_2_s_and_a_bad_edit_is_refused(
    running: tuple[Runtime, Path], sqlite_db: str
) -> None:
    runtime, config = running
    wait_for(lambda: _counted(runtime), 10)
    assert alert(runtime)["state"] == "normal"  # type: ignore[index]

    config.write_text(
        yaml.safe_dump(document(sqlite_db, [{**RULE, "condition": "> 1"}])), encoding="utf-8"
    )
    took = wait_for(lambda: alert(runtime)["state"] == "firing", 2.0)  # type: ignore[index]
    assert took < 2.0
    print(f"threshold change applied after {took:.2f} s")

    broken = document(sqlite_db, [{**RULE, "metric": "deposit_cuont", "condition": "> 1"}])
    staged = config.with_suffix(".tmp")
    staged.write_text(yaml.safe_dump(broken), encoding="utf-8")
    os.replace(staged, config)  # as editors save: write a copy, rename it over the file
    wait_for(lambda: _refused(runtime), 2.0)
    status = _config_status(runtime)
    assert "alerts.rules.0.metric: unknown metric 'deposit_cuont'" in status["refused_message"]
    assert f"{config.resolve()}:" in status["refused_message"]  # file and line

    evaluated = alert(runtime)["evaluated_at"]  # type: ignore[index]
    wait_for(lambda: alert(runtime)["evaluated_at"] > evaluated, 2.0)  # type: ignore[index]
    assert alert(runtime)["state"] == "firing"  # type: ignore[index]  # the last good rule

    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the file on disk is still the broken one
        assert cli.main(["--config", str(config), "status"]) == 2
    shown = out.getvalue()
    assert "kpis" in shown.splitlines()[1]  # the groups of the running ingest ...
    assert "last refused at" in shown and "(the last good config keeps running)" in shown
    assert "unknown metric 'deposit_cuont'" in shown  # ... and its refusal of the edit


def _counted(runtime: Runtime) -> bool:
    row = alert(runtime)
    return row is not None and (row["value"] or 0) >= 5


def _refused(runtime: Runtime) -> bool:
    status = _config_status(runtime)
    return bool(status and status["refused_at"])


def _config_status(runtime: Runtime) -> dict[str, Any]:
    with runtime.engine.connect() as conn:
        return read_config_status(conn) or {}
