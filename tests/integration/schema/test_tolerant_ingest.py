"""Old, malformed and unknown events never stop the metrics: old shapes are upcast and
counted like new ones; a missing or wrong field is counted per metric and field (and parked
in a dead_letter group); unknown event types are ignored and counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.eventstore import EventStore, NewEvent, StreamAppend
from domain.upcasting import UPCASTERS
from ingest import cli
from ingest.config_loader import parse_settings
from ingest.dead_letters import list_dead_letters
from ingest.metrics.query import MetricsQuery
from ingest.metrics.storage import read_counters
from ingest.runtime import bootstrap
from ingest.settings import Settings
from tests.unit.schema.test_golden_fixtures import as_record, stored_rows

AT = datetime(2025, 3, 2, 0, 0, tzinfo=UTC)

CONFIG = """
database:
  url: {url}
groups:
  - name: kpis
    handler: builtin:kpis
    error_policy: {policy}
    critical: true
metrics:
  - name: deposits
    kind: sum
    events: [FundsDeposited]
    field: amount
    by: channel
  - name: deposit_count
    kind: count
    events: [FundsDeposited]
  - name: new_users
    kind: count
    events: [UserRegistered]
"""


def settings_for(url: str, policy: str = "retry") -> Settings:
    return parse_settings(CONFIG.format(url=url, policy=policy), Path("schema-test.yaml"))


@pytest.fixture
def loaded_store(store_url: str) -> Iterator[EventStore]:
    store = EventStore.from_url(store_url)
    for row in stored_rows():
        record = as_record(row)
        new = NewEvent(record.event_type, record.payload, record.schema_version, record.occurred_at)
        store.append_streams(
            [StreamAppend(record.stream_id, record.stream_type, record.version - 1, [new])]
        )
    yield store
    store.close()


def run_once(settings: Settings) -> MetricsQuery:
    runtime = bootstrap(settings)
    try:
        assert runtime.run(once=True), runtime.failures
    finally:
        runtime.close()
    runtime = bootstrap(settings)
    return MetricsQuery.from_settings(runtime.engine, settings)


def test_metrics_on_new_field_names_count_old_and_new_events_alike(
    loaded_store: EventStore, store_url: str
) -> None:
    query = run_once(settings_for(store_url))
    start, end = datetime(2024, 1, 1, tzinfo=UTC), AT
    assert query.value_between("deposits", _epoch(start), _epoch(end)) == Decimal("6322.50")
    assert query.value_between("deposit_count", _epoch(start), _epoch(end)) == 3
    assert query.value_between("deposits", _epoch(start), _epoch(end), dim="unionpay") == Decimal(
        "1234.50"
    )  # v1 wrote the channel as `source`
    assert query.value_between("new_users", _epoch(start), _epoch(end)) == 4


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp()) // 60 * 60


def _append(store: EventStore, stream: str, event_type: str, version: int, payload: Any) -> None:
    current = len(store.load_stream(stream))
    store.append(stream, current, [NewEvent(event_type, payload, version, AT)])


def test_a_missing_or_mistyped_field_is_counted_per_metric_and_field_without_stopping(
    store_url: str,
) -> None:
    store = EventStore.from_url(store_url)
    good = {"user_id": "U1", "amount": "10.00", "currency": "CNY", "channel": "alipay"}
    _append(store, "wallet-U1", "FundsDeposited", 2, good)
    _append(store, "wallet-U2", "FundsDeposited", 2, {**good, "user_id": "U2", "amount": None})
    _append(store, "wallet-U3", "FundsDeposited", 2, {**good, "user_id": "U3", "amount": [1]})
    _append(store, "wallet-U4", "FundsDeposited", 2, {"user_id": "U4", "currency": "CNY"})
    _append(store, "wallet-U5", "FundsDeposited", 2, {**good, "user_id": "U5"})
    _append(store, "audit-X1", "SomethingNobodyKnows", 1, {"x": 1})
    settings = settings_for(store_url)
    query = run_once(settings)
    span = (_epoch(AT - timedelta(hours=1)), _epoch(AT + timedelta(hours=1)))
    assert query.value_between("deposits", *span) == Decimal("20.00")
    assert query.value_between("deposit_count", *span) == 5  # count reads no field
    with query.engine.connect() as conn:
        counters = read_counters(conn, 1)
    assert counters["missing:deposits:amount"] == 2  # null and absent
    assert counters["invalid:deposits:amount"] == 1
    assert counters["unknown_event_types"] == 1
    store.close()


def test_a_dead_letter_group_parks_an_event_a_metric_cannot_read(store_url: str) -> None:
    store = EventStore.from_url(store_url)
    good = {"user_id": "U1", "amount": "10.00", "currency": "CNY", "channel": "alipay"}
    _append(store, "wallet-U1", "FundsDeposited", 2, {**good, "amount": "ten"})
    _append(store, "wallet-U1", "FundsDeposited", 2, good)  # parked behind it: same stream
    _append(store, "wallet-U2", "FundsDeposited", 2, {**good, "user_id": "U2"})
    settings = settings_for(store_url, policy="dead_letter")
    query = run_once(settings)
    span = (_epoch(AT - timedelta(hours=1)), _epoch(AT + timedelta(hours=1)))
    assert query.value_between("deposits", *span) == Decimal("10.00")
    with query.engine.connect() as conn:
        letters = list_dead_letters(conn, "kpis")
    assert [(d.stream_id, d.version) for d in letters] == [("wallet-U1", 1), ("wallet-U1", 2)]
    assert "invalid field 'amount'" in letters[0].error
    store.close()


def test_a_dead_lettered_event_is_upcast_when_retried_so_an_upcaster_heals_it(
    store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    store = EventStore.from_url(store_url)
    v1 = {"user_id": "U1", "amount": "1,234.5", "source": "unionpay"}
    _append(store, "wallet-U1", "FundsDeposited", 1, v1)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(url=store_url, policy="dead_letter"))
    shipped = UPCASTERS[("FundsDeposited", 1)]
    monkeypatch.delitem(UPCASTERS, ("FundsDeposited", 1))  # the reader lacks the upcaster
    query = run_once(settings_for(store_url, policy="dead_letter"))
    with query.engine.connect() as conn:
        [letter] = list_dead_letters(conn, "kpis")
    assert "no upcaster" in letter.error
    span = (_epoch(AT - timedelta(hours=1)), _epoch(AT + timedelta(hours=1)))
    assert query.value_between("deposits", *span) == Decimal("0.00")

    monkeypatch.setitem(UPCASTERS, ("FundsDeposited", 1), shipped)  # the fix ships
    assert cli.main(["--config", str(config), "dead-letters", "retry", "--group", "kpis"]) == 0
    assert "retried 1, still failing 0" in capsys.readouterr().out
    assert query.value_between("deposits", *span) == Decimal("1234.50")
    with query.engine.connect() as conn:
        assert list_dead_letters(conn, "kpis") == []
    store.close()
