"""The Pipeline page: each group's position and lag, the event rate, the dead letters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st

from dashboard.loaders import pipeline
from ingest.alerts.config_status import record_applied, record_refused
from ingest.dead_letters import list_dead_letters
from ingest.report import group_report
from tests.integration.dashboard.apptest import RANGE, app, open_page, run, texts
from tests.integration.dashboard.world import World


def test_the_group_table_shows_every_group_caught_up_at_the_head(world: World):
    test = open_page(run(app(**RANGE)), "pipeline")
    table = test.dataframe[0].value
    report = {row["group"]: row for row in group_report(world.store, world.engine)}
    assert sorted(table["group"]) == sorted(report) == ["filing", "kpis", "marketing"]
    head = world.store.head().position
    assert set(table["position"]) == {head} and set(table["lag_events"]) == {0}
    assert [m.value for m in test.metric][:2] == [f"{head:,}", "0 events · 0.0 s"]


def test_dead_letters_show_with_their_error_and_event(world: World):
    test = open_page(run(app(**RANGE)), "pipeline")
    with world.engine.connect() as conn:
        parked = list_dead_letters(conn, "filing")
    assert parked and {letter.event_type for letter in parked} >= {"KycRejected"}
    table = test.dataframe[1].value
    assert list(table["id"]) == [letter.id for letter in parked]
    assert [m.value for m in test.metric][2] == f"{len(parked):,}"
    first = test.expander[0]
    assert first.label.startswith(f"#{parked[0].id} filing: {parked[0].event_type}")
    assert "KycRejectionRefusedError" in texts(first.error)[0]
    assert first.json[0].value  # the event, payload and all


def test_the_event_rate_adds_up_to_the_events_that_occurred_in_the_range(world: World):
    start = int(datetime(2024, 6, 30, 0, 0, tzinfo=UTC).timestamp())
    end = int(datetime(2024, 6, 30, 6, 0, tzinfo=UTC).timestamp())
    rates = pipeline.event_rate(world.engine, "kpis", start, end, 900)
    events = world.store.read_all(limit=10**6)
    occurred = Counter(e.event_type for e in events if start <= e.occurred_at.timestamp() < end)
    counted = (rates.assign(n=rates["per_s"] * 900).groupby("event_type")["n"].sum()).round()
    assert counted.to_dict() == pytest.approx(dict(occurred))
    assert rates["start"].min() >= datetime.fromtimestamp(start, UTC)


def test_the_rate_chart_draws(world: World):
    test = open_page(run(app(**RANGE)), "pipeline")
    assert len(test.get("plotly_chart")) == 1


def test_a_refused_config_change_shows_with_the_loaders_message(world: World):
    config = Path(world.config)
    applied_at = datetime.now(UTC) - timedelta(minutes=5)
    record_applied(world.engine, config, "a" * 64, applied_at)
    st.cache_data.clear()  # the page's status is cached for a few seconds
    test = open_page(run(app(**RANGE)), "pipeline")
    assert any("last applied" in text for text in texts(test.markdown))
    assert not [e for e in texts(test.error) if "Change refused" in e]
    message = f"{config}:12: metrics.0.kind: unknown kind 'summ'"
    record_refused(world.engine, config, "b" * 64, message, applied_at + timedelta(minutes=1))
    st.cache_data.clear()  # the page's status is cached for a few seconds
    test = open_page(run(app(**RANGE)), "pipeline")
    refused = [e for e in texts(test.error) if "Change refused" in e]
    assert len(refused) == 1 and message in refused[0]
