"""A new rule set at once: unchanged rules keep their state, removed rules stop (resolved
if receivers knew them firing), new rules start normal; the watcher refuses a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from ingest.alerts.config_status import read_config_status
from ingest.alerts.config_watch import ConfigWatcher
from ingest.alerts.tables import states
from ingest.config_loader import ConfigError, load_settings
from ingest.settings import Settings
from tests.integration.alerts.bench import METRICS, SPIKE, Bench, settings_with, told

STOPPED = {"name": "stopped", "metric": "deposit_count", "window": "10m", "condition": "== 0"}


def rules_in_table(bench: Bench) -> list[str]:
    with bench.engine.connect() as conn:
        return [r.rule for r in conn.execute(select(states.c.rule).order_by(states.c.rule))]


def test_a_threshold_change_keeps_the_state_and_applies_at_the_next_tick(bench: Bench) -> None:
    bench.service.configure(settings_with([{**SPIKE, "for": "5m"}]))
    bench.set("failure_rate", 0.08)
    bench.tick()
    assert bench.state()["state"] == "normal"
    bench.service.configure(settings_with([{**SPIKE, "for": "5m", "condition": "> 5%",
                                            "recovery": "2%"}]))  # fmt: skip
    bench.tick()
    pending_since = bench.state()["pending_since"]
    assert bench.state()["state"] == "pending"
    bench.service.configure(settings_with([{**SPIKE, "for": "5m", "condition": "> 6%",
                                            "recovery": "2%"}]))  # fmt: skip
    bench.tick()
    assert bench.state()["pending_since"] == pending_since  # the same series: timers survive
    assert bench.state()["threshold"] == pytest.approx(0.06)


def test_a_removed_rule_is_resolved_for_its_receivers_and_forgotten(bench: Bench) -> None:
    bench.service.configure(settings_with([SPIKE, STOPPED]))
    bench.set("failure_rate", 0.3)
    bench.set("deposit_count", 4)
    bench.tick()
    bench.service.configure(settings_with([STOPPED]))
    bench.tick()
    assert rules_in_table(bench) == ["stopped"]
    assert [told(m) for m in bench.notifications()] == [
        [("spike", "firing")],
        [("spike", "resolved")],
    ]
    assert bench.transitions("spike") == [("normal", "firing"), ("firing", "normal")]


def test_a_new_rule_starts_normal_and_a_rule_watching_another_series_starts_over(
    bench: Bench,
) -> None:
    bench.set("failure_rate", 0.3)
    bench.set("deposit_count", 0)
    bench.tick()
    bench.service.configure(settings_with([{**SPIKE, "window": "30m"}, STOPPED]))
    bench.tick()
    assert bench.transitions("stopped") == [("normal", "firing")]
    assert bench.transitions("spike") == [
        ("normal", "firing"),
        ("firing", "normal"),  # the rule changed: its old alert ends ...
        ("normal", "firing"),  # ... and the new one starts from normal
    ]


def test_the_watcher_applies_a_valid_file_and_refuses_a_bad_one(
    tmp_path: Path, bench: Bench
) -> None:
    config = tmp_path / "config.yaml"
    good = {"metrics": METRICS, "alerts": {"rules": [SPIKE]}}
    config.write_text(yaml.safe_dump(good), encoding="utf-8")
    applied: list[Settings] = []
    refused: list[ConfigError] = []
    watcher = ConfigWatcher(config, load_settings(config), engine=bench.engine,
                            on_valid=[applied.append], on_invalid=[refused.append],
                            clock=bench.clock)  # fmt: skip
    watcher.record_start()
    assert watcher.check() is None  # unchanged
    config.write_text(
        yaml.safe_dump({**good, "alerts": {"rules": [{**SPIKE, "for": "5 minutes"}]}})
    )
    assert watcher.check() is False
    assert applied == [] and refused[0].problems[0].endswith("bad duration '5 minutes': use a "
                                                             "positive number with s, m, h, d "
                                                             "or w (e.g. 5m, 24h)")  # fmt: skip
    with bench.engine.connect() as conn:
        status = read_config_status(conn)
    assert status is not None and status["refused_at"] == bench.clock()
    assert f"{config.resolve()}:" in status["refused_message"]
    config.write_text(yaml.safe_dump({**good, "alerts": {"rules": [{**SPIKE, "for": "5m"}]}}))
    assert watcher.check() is True
    assert applied[0].alerts.rules[0].for_ == 300
    assert watcher.settings is applied[0]


def test_a_change_that_a_part_cannot_take_is_refused_with_its_reason(
    tmp_path: Path, bench: Bench
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"metrics": METRICS}), encoding="utf-8")

    def cannot(_: Settings) -> None:
        raise RuntimeError("backfill queue is full")

    watcher = ConfigWatcher(config, load_settings(config), engine=bench.engine, on_valid=[cannot],
                            clock=bench.clock)  # fmt: skip
    config.write_text(yaml.safe_dump({"metrics": METRICS, "alerts": {"rules": [SPIKE]}}))
    assert watcher.check() is False
    with bench.engine.connect() as conn:
        status = read_config_status(conn)
    assert status is not None
    assert "could not apply: RuntimeError: backfill queue is full" in status["refused_message"]
