"""``python -m domain simulate`` end to end on a SQLite file: backfill, then a live run."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.__main__ import main
from domain.eventstore import EventStore
from domain.settings import DATABASE_URL_ENV
from domain.simulator.scenario import DEFAULT_LIVE_CYCLE, DEFAULT_TIMEZONE
from domain.simulator.timeline import daily_factor


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: {sqlite_url}\n", encoding="utf-8")
    return path


def count(url: str) -> int:
    with EventStore.from_url(url) as store:
        return store.head().position


def test_a_backfill_then_a_short_live_run_append_about_the_expected_events(
    config: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
):
    argv = ["simulate", "--config", str(config), "--no-progress"]
    assert main([*argv, "--backfill", "1h", "--duration", "0", "--seed", "1"]) == 0
    backfilled = count(sqlite_url)
    out = capsys.readouterr().out
    assert "backfill:" in out and f"{backfilled:,} events" in out

    started = time.time()
    assert (
        main([*argv, "--duration", "2s", "--rate", "200", "--seed", "2", "--report-every", "0.5"])
        == 0
    )
    live = count(sqlite_url) - backfilled
    curve = daily_factor(started + 1, ZoneInfo(DEFAULT_TIMEZONE))
    expected = 200 * 2 * (1 + DEFAULT_LIVE_CYCLE * (curve - 1))  # live damps the daily cycle
    out = capsys.readouterr().out
    behind = re.search(r"fell behind its schedule by up to ([\d.]+)s", out)
    if behind is None:
        assert 0.6 * expected <= live <= 1.3 * expected, (live, expected)
    else:  # a busy machine: SQLite took longer per command; the run said so
        assert 0.3 * expected <= live < expected, (live, expected, behind.group(0))
    assert f"continuing {backfilled:,} stored events" in out
    assert "events/s |" in out  # progress lines while live
    assert "live: " in out and "events from" in out  # the summary on exit


def test_a_flat_live_run_appends_the_rate_whatever_the_hour(
    config: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
):
    argv = ["simulate", "--config", str(config), "--no-progress", "--seed", "3"]
    assert main([*argv, "--backfill", "1h", "--duration", "0"]) == 0
    backfilled = count(sqlite_url)
    assert main([*argv, "--duration", "2s", "--rate", "150", "--live-cycle", "0"]) == 0
    live = count(sqlite_url) - backfilled
    out = capsys.readouterr().out
    assert "150 now (flat: no daily cycle)" in out
    if "fell behind its schedule" not in out:
        assert 0.7 * 300 <= live <= 1.3 * 300, live


def test_a_live_cycle_outside_0_to_1_is_refused(config: Path, capsys: pytest.CaptureFixture[str]):
    argv = ["simulate", "--config", str(config), "--duration", "0", "--live-cycle", "1.5"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "live-cycle must be between 0 (a flat rate) and 1" in capsys.readouterr().err


def test_the_same_seed_and_end_of_history_give_the_same_backfill(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    histories = []
    for name in ("a", "b"):
        config = tmp_path / f"{name}.yaml"
        url = f"sqlite:///{tmp_path / name}.db"
        config.write_text(f"database:\n  url: {url}\n", encoding="utf-8")
        argv = [
            "simulate",
            "--config",
            str(config),
            "--seed",
            "7",
            "--backfill",
            "90m",
            "--backfill-until",
            "2024-05-08T20:00:00",
            "--duration",
            "0",
            "--no-progress",
        ]
        assert main(argv) == 0
        with EventStore.from_url(url) as store:
            records = store.read_all(limit=100_000)
        histories.append([(r.event_type, r.payload, r.occurred_at, r.metadata) for r in records])
    assert len(histories[0]) > 500
    assert histories[0] == histories[1]
    assert histories[0][-1][2] <= datetime(2024, 5, 8, 12, tzinfo=UTC)  # 20:00 in Shanghai
