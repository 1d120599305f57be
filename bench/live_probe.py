"""The instruments of the live benchmark (``bench/live.py``): a probe projection, a poller,
a watcher of long transactions, a paced appender, and percentiles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from bench.databases import connect
from domain.eventstore import EventStore, NewEvent, RecordedEvent, StreamAppend
from ingest.metrics.query import MetricsQuery
from ingest.projection import Projection

POLL_S = 0.05
COUNTER = "deposit_count"


class ProbeProjection(Projection):
    """Records how long after its append each event reached a handler."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float]] = []  # (recorded_at, seconds until handled)

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        now = datetime.now(UTC)
        self.seen.extend(
            (e.recorded_at.timestamp(), (now - e.recorded_at).total_seconds()) for e in events
        )


@dataclass(frozen=True)
class LiveResult:
    appended: int
    append_rate: float
    handler_p50: float
    handler_p95: float
    visible_p50: float
    visible_p95: float
    deposits: int
    simulator_tail: str
    oldest_write_p95: float  # age of the oldest open writing transaction in the cluster
    oldest_write_max: float


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def poll(query: MetricsQuery, start: int, end: int, stop: threading.Event,
          polls: list[tuple[float, int]]) -> None:  # fmt: skip
    while not stop.is_set():
        value = query.value_between(COUNTER, start, end)
        polls.append((time.time(), int(value or 0)))
        stop.wait(POLL_S)


_OLDEST_WRITE = (
    "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) FROM pg_stat_activity "
    "WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
)


def watch_writers(url: str, stop: threading.Event, ages: list[float]) -> None:
    """Every 100 ms, the age of the oldest open writing transaction in the whole cluster:
    gap-safe readers (``tx_id < pg_snapshot_xmin``) cannot see commits newer than it."""
    with connect(url) as conn:
        while not stop.is_set():
            ages.append(float(conn.execute(_OLDEST_WRITE).fetchone()[0]))
            stop.wait(0.1)


def append_paced(url: str, rate: float, seconds: float, per_tx: int = 10) -> str:
    """Deposits appended from this process at ``rate`` events/s, ``per_tx`` per transaction
    (each on a new wallet stream), when the simulator cannot produce the rate itself."""
    store = EventStore.from_url(url, application_name="bench-live-appender")
    started, sent = time.time(), 0
    try:
        while (now := time.time()) < started + seconds:
            due = int((now - started) * rate)
            while sent + per_tx <= due:
                at = datetime.now(UTC)
                store.append_streams([
                    StreamAppend(f"wallet-LIVE{sent + k:07d}", "wallet", 0, [NewEvent(
                        "FundsDeposited", {"user_id": f"LIVE{sent + k:07d}", "amount": "100.00",
                                           "currency": "CNY", "channel": "alipay"},
                        schema_version=2, occurred_at=at)])
                    for k in range(per_tx)
                ])  # fmt: skip
                sent += per_tx
            time.sleep(0.005)
    finally:
        store.close()
    return f"appended {sent:,} deposits in {seconds:.0f}s from a thread ({per_tx} per tx)"


def visible_latencies(
    recorded: list[float], polls: list[tuple[float, int]], since: float
) -> list[float]:
    """For the i-th deposit (all of history, in read order), the first poll counting >= i;
    only deposits appended after ``since`` are reported."""
    latencies: list[float] = []
    index = 0
    for i, at in enumerate(recorded, start=1):
        while index < len(polls) and polls[index][1] < i:
            index += 1
        if at < since:
            continue
        if index == len(polls):
            latencies.append(float("inf"))  # never seen
        else:
            latencies.append(polls[index][0] - at)
    return latencies


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise TimeoutError("the ingest did not catch up in time")
        time.sleep(0.05)
