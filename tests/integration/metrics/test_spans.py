"""Duration spans: closed by their end event with a duration, by a cancel event without one,
and never left open forever when the process they measure fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from domain.eventstore import EventStore, NewEvent
from ingest.config_loader import parse_settings
from ingest.metrics.query import MetricsQuery
from ingest.metrics.storage import spans
from ingest.runtime import bootstrap

T0 = datetime(2025, 5, 6, 3, 0, tzinfo=UTC)
CONFIG = """
database: {{url: "{url}"}}
groups: [{{name: kpis, handler: "builtin:kpis"}}]
metrics:
  - name: settlement
    kind: duration
    start: {{event: WithdrawalRequested, key: withdrawal_id}}
    end: {{event: WithdrawalCompleted, key: withdrawal_id}}
    cancel: [{{event: WithdrawalFailed, key: withdrawal_id}}]
    q: 0.5
"""


def withdrawal(store: EventStore, n: int, outcome: str, seconds: int) -> None:
    base = {"user_id": f"U{n}", "withdrawal_id": f"W{n}", "amount": "5.00"}
    end = {**base, "reason": "channel timeout"} if outcome == "WithdrawalFailed" else base
    store.append(
        f"wallet-U{n}",
        0,
        [
            NewEvent("WithdrawalRequested", base, 1, T0),
            NewEvent(outcome, end, 1, T0 + timedelta(seconds=seconds)),
        ],
    )


def test_a_failed_withdrawal_closes_its_span_without_a_duration(store_url: str) -> None:
    store = EventStore.from_url(store_url)
    withdrawal(store, 1, "WithdrawalCompleted", 60)
    withdrawal(store, 2, "WithdrawalFailed", 5)
    withdrawal(store, 3, "WithdrawalCompleted", 60)
    settings = parse_settings(CONFIG.format(url=store_url), Path("spans.yaml"))
    runtime = bootstrap(settings)
    assert runtime.run(once=True)
    query = MetricsQuery.from_settings(runtime.engine, settings)
    median = query.value("settlement", "1h", T0 + timedelta(minutes=5))
    assert median is not None and abs(median - 60) / 60 < 0.02  # the 5 s failure is not in it
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(spans)).scalar_one() == 0
    runtime.close()
    store.close()


def test_a_duration_counts_the_closed_spans_it_is_made_of(store_url: str) -> None:
    store = EventStore.from_url(store_url)
    withdrawal(store, 1, "WithdrawalCompleted", 60)
    withdrawal(store, 2, "WithdrawalFailed", 5)
    withdrawal(store, 3, "WithdrawalCompleted", 600)  # completed 10 minutes after T0
    settings = parse_settings(CONFIG.format(url=store_url), Path("spans.yaml"))
    runtime = bootstrap(settings)
    assert runtime.run(once=True)
    query = MetricsQuery.from_settings(runtime.engine, settings)
    start = int(T0.timestamp())
    assert query.samples_between("settlement", start, start + 3600) == 2  # the failure: none
    assert query.samples_between("settlement", start, start + 300) == 1
    assert query.samples_between("settlement", start - 3600, start) == 0
    runtime.close()
    store.close()


def test_a_metric_being_backfilled_reads_as_no_data_until_it_has_caught_up(
    store_url: str,
) -> None:
    from ingest.metrics.storage import define

    store = EventStore.from_url(store_url)
    withdrawal(store, 1, "WithdrawalCompleted", 60)
    settings = parse_settings(CONFIG.format(url=store_url), Path("spans.yaml"))
    runtime = bootstrap(settings)
    assert runtime.run(once=True)
    query = MetricsQuery.from_settings(runtime.engine, settings)
    at = T0 + timedelta(minutes=5)
    assert query.value("settlement", "1h", at) is not None
    with runtime.engine.begin() as conn:  # as a hot reload leaves a redefined metric
        define(conn, 1, "settlement", "changed", live=False)
    assert query.backfilling("settlement")
    assert query.value("settlement", "1h", at) is None
    assert {p.value for p in query.series("settlement", T0, at, "1m")} == {None}
    start = int(T0.timestamp())
    assert query.samples_between("settlement", start, start + 3600) is None
    runtime.close()
    store.close()
