"""Silences: an alert they match still changes state (and shows), it just does not notify.

A silence names a rule and, optionally, labels that must all match (``team=payments``); it
holds from its creation for a duration, or until it is expired by hand.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from ingest.alerts.tables import silences


@dataclass(frozen=True)
class Silence:
    id: int
    rule: str
    matchers: dict[str, str]
    reason: str
    created_by: str
    starts_at: datetime
    ends_at: datetime
    expired_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at

    def matches(self, rule: str, labels: dict[str, str]) -> bool:
        return self.rule == rule and all(labels.get(k) == v for k, v in self.matchers.items())


def add_silence(
    conn: Connection,
    rule: str,
    matchers: dict[str, str],
    duration: timedelta,
    reason: str,
    now: datetime,
    created_by: str | None = None,
) -> int:
    if duration <= timedelta(0):
        raise ValueError("a silence needs a positive duration")
    if not reason.strip():
        raise ValueError("say why (--reason): the next person on call will ask")
    result = conn.execute(
        insert(silences).values(
            rule=rule,
            matchers=matchers,
            reason=reason.strip(),
            created_by=created_by or _user(),
            starts_at=now,
            ends_at=now + duration,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def expire_silence(conn: Connection, silence_id: int, now: datetime) -> bool:
    """End a silence now; False when there is no such silence still running."""
    result = conn.execute(
        update(silences)
        .where(
            silences.c.id == silence_id, silences.c.expired_at.is_(None), silences.c.ends_at > now
        )
        .values(expired_at=now)
    )
    return result.rowcount == 1


def list_silences(conn: Connection, now: datetime, *, include_ended: bool = False) -> list[Silence]:
    query = select(silences).order_by(silences.c.id)
    if not include_ended:
        query = query.where(silences.c.expired_at.is_(None), silences.c.ends_at > now)
    return [_silence(row) for row in conn.execute(query).mappings()]


def active_silences(conn: Connection, now: datetime) -> list[Silence]:
    query = select(silences).where(
        silences.c.expired_at.is_(None), silences.c.starts_at <= now, silences.c.ends_at > now
    )
    return [_silence(row) for row in conn.execute(query).mappings()]


def is_silenced(found: list[Silence], rule: str, labels: dict[str, str], now: datetime) -> bool:
    return any(s.active(now) and s.matches(rule, labels) for s in found)


def _silence(row: object) -> Silence:
    values = dict(row)  # type: ignore[call-overload]
    values["matchers"] = dict(values["matchers"] or {})
    return Silence(**values)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
