"""A metric added to config.yaml sees all of history: it is backfilled from position 0 in
the background while the other metrics stay live, then joins without double counting."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from domain.eventstore import EventStore, NewEvent, StreamAppend
from ingest.config_loader import parse_settings
from ingest.metrics.query import MetricsQuery
from ingest.runtime import bootstrap

START = datetime(2025, 4, 1, 0, 0, tzinfo=UTC)
END = int((START + timedelta(days=30)).timestamp())
BASE = """
database: {{url: "{url}"}}
ingest: {{batch_size: 200, idle_wait_s: 0.2}}
groups: [{{name: kpis, handler: "builtin:kpis"}}]
metrics:
  - {{name: deposit_count, kind: count, events: [FundsDeposited]}}
"""
ADDED = """
  - {{name: investment_volume, kind: sum, events: [InvestmentReceived], field: amount}}
"""


def append_week(store: EventStore, first: int, days: int) -> None:
    for n in range(first, first + days * 24):
        at = START + timedelta(hours=n)
        deposit = {"user_id": f"U{n}", "amount": "100.00", "currency": "CNY", "channel": "app"}
        invest = {"loan_id": f"L{n}", "investor_id": f"U{n}", "amount": f"{n % 50 + 1}.25",
                  "product": "car"}  # fmt: skip
        deposited = NewEvent("FundsDeposited", deposit, 2, at)
        invested = NewEvent("InvestmentReceived", invest, 1, at)
        store.append_streams(
            [
                StreamAppend(f"wallet-U{n}", "wallet", 0, [deposited]),
                StreamAppend(f"loan-L{n}", "loan", 0, [invested]),
            ]
        )


def direct_hourly_sums(store_url: str, engine: object) -> dict[datetime, Decimal]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            text("SELECT occurred_at, payload FROM events WHERE event_type = 'InvestmentReceived'")
        ).all()
    sums: dict[datetime, Decimal] = {}
    for occurred, payload in rows:
        moment = occurred if isinstance(occurred, datetime) else datetime.fromisoformat(occurred)
        hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        amount = (
            payload["amount"]
            if isinstance(payload, dict)
            else __import__("json").loads(payload)["amount"]
        )
        sums[hour] = sums.get(hour, Decimal(0)) + Decimal(amount)
    return sums


def test_a_metric_added_while_ingest_runs_gets_its_full_seven_day_history(
    store_url: str, tmp_path: Path
) -> None:
    store = EventStore.from_url(store_url)
    append_week(store, 0, 7)
    config = tmp_path / "config.yaml"
    config.write_text(BASE.format(url=store_url))
    settings = parse_settings(config.read_text(), config)
    runtime = bootstrap(settings)
    thread = threading.Thread(target=runtime.run)
    thread.start()
    try:
        query = MetricsQuery.from_settings(runtime.engine, settings)
        deadline = time.monotonic() + 60
        while query.value_between("deposit_count", 0, END) != 168:
            assert time.monotonic() < deadline, "the live metric never caught up"
            time.sleep(0.1)

        grown = parse_settings(BASE.format(url=store_url) + ADDED.format(), config)
        runtime.apply_settings(grown)
        append_week(store, 168, 1)  # live traffic keeps coming during the backfill
        query = MetricsQuery.from_settings(runtime.engine, grown)
        while query.backfilling("investment_volume") or (
            query.value_between("deposit_count", 0, END) != 192
        ):
            assert time.monotonic() < deadline, runtime.processors[0].state
            time.sleep(0.1)
        points = query.series("investment_volume", START, START + timedelta(days=8), "1h")
        expected = direct_hourly_sums(store_url, runtime.engine)
        assert {p.start: p.value for p in points if p.value} == expected
        assert len(expected) == 192
    finally:
        runtime.stop.set()
        thread.join()
        runtime.close()
        store.close()
