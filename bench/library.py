"""Issue 4 baseline: the ``eventsourcing`` library's documented projection pattern.

A ``ProjectionRunner`` subscribes to an ``Application``'s stored events and calls a
``Projection`` whose materialised view is a ``TrackingRecorder`` subclass: each event's
effect (here the per-minute count and amount sum of its type) and its tracking record are
written in one transaction, as the library's documentation shows. The same events are put
into the library's store first; only the projection is timed.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL


class Ledger(Aggregate):
    class Occurred(Aggregate.Event):
        event_type: str
        occurred_at: datetime
        payload: dict[str, Any]


class LedgerEvents(Application[UUID]):
    """The writer side: holds the copied events."""


class MinuteTotalsView(TrackingRecorder):
    @abstractmethod
    def add(self, event_type: str, minute: int, fen: int, tracking: Tracking) -> None: ...

    @abstractmethod
    def counted(self) -> int: ...


_UPSERT = (
    "INSERT INTO {t} VALUES ({m}, {m}, 1, {m}) ON CONFLICT (event_type, minute) "
    "DO UPDATE SET n = {t}.n + 1, fen = {t}.fen + excluded.fen"
)
_TABLE = (
    "CREATE TABLE IF NOT EXISTS {t} (event_type text, minute bigint, n bigint, "
    "fen bigint, PRIMARY KEY (event_type, minute))"
)


class PostgresMinuteTotals(MinuteTotalsView, PostgresTrackingRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = f'"{self.datastore.schema}".minute_totals'
        self.sql_create_statements.append(SQL(_TABLE.format(t=table)))  # type: ignore[arg-type]
        self._upsert = _UPSERT.format(t=table, m="%s")
        self._sum = f"SELECT coalesce(sum(n), 0) AS n FROM {table}"

    def add(self, event_type: str, minute: int, fen: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._upsert, (event_type, minute, fen))
            self._insert_tracking(curs, tracking)

    def counted(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sum)
            row = curs.fetchone()
        return int(row["n"]) if row else 0


class SQLiteMinuteTotals(MinuteTotalsView, SQLiteTrackingRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), _TABLE.format(t="minute_totals")]

    def add(self, event_type: str, minute: int, fen: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(_UPSERT.format(t="minute_totals", m="?"), (event_type, minute, fen))
            self._insert_tracking(curs, tracking)

    def counted(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT coalesce(sum(n), 0) FROM minute_totals")
            row = curs.fetchone()
        return int(row[0]) if row else 0


class MinuteTotals(Projection[MinuteTotalsView]):
    name = "minutetotals"
    topics = (get_topic(Ledger.Occurred),)

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: Ledger.Occurred, tracking: Tracking) -> None:
        minute = int(domain_event.occurred_at.timestamp()) // 60 * 60
        amount = domain_event.payload.get("amount")
        fen = int(Decimal(str(amount)) * 100) if amount is not None else 0
        self.view.add(domain_event.event_type, minute, fen, tracking)
