"""A non-critical projection for the marketing team: registrations per referrer per
business day. It runs in its own processing group, so a failure here never stalls KPIs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    delete,
)

from domain.eventstore import RecordedEvent
from domain.eventstore.engine import dialect_insert
from ingest.projection import Projection

metadata = MetaData()

referrals = Table(
    "rm_referrals",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("day", Date, primary_key=True),  # business day in the configured time zone
    Column("referrer", String(200), primary_key=True),  # "(none)" when not referred
    Column("registrations", BigInteger, nullable=False),
)


class ReferralCounter(Projection):
    metadata = metadata

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(timezone)

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        counts: Counter[tuple[date, str]] = Counter()
        for event in events:
            if event.event_type != "UserRegistered":
                continue
            referrer = event.payload["referrer"] or "(none)"
            if not isinstance(referrer, str):
                raise TypeError(f"referrer must be a string, got {referrer!r}")
            counts[(event.occurred_at.astimezone(self.zone).date(), referrer)] += 1
        if not counts:
            return
        insert = dialect_insert(conn)
        statement = insert(referrals)
        statement = statement.on_conflict_do_update(
            index_elements=["generation", "day", "referrer"],
            set_={"registrations": referrals.c.registrations + statement.excluded.registrations},
        )
        rows = [
            {"generation": generation, "day": day, "referrer": ref, "registrations": n}
            for (day, ref), n in counts.items()
        ]
        conn.execute(statement, rows)

    def drop_generation(self, conn: Connection, generation: int) -> None:
        conn.execute(delete(referrals).where(referrals.c.generation == generation))
