"""The Audit page's data: a user's, wallet's or loan's events in order, and its state as it
stood at a chosen moment, rebuilt from those events (``state_at``).

The id typed by a person reaches the database only as a bound parameter of
``EventStore.load_stream``; it never becomes part of an SQL string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from domain.aggregates import AGGREGATE_TYPES
from domain.eventstore import EventStore
from domain.repository import state_at

KINDS = tuple(AGGREGATE_TYPES)  # user, wallet, loan
MAX_ID_LENGTH = 200
HISTORY_COLUMNS = ["version", "event_type", "occurred_at", "recorded_at", "position",
                   "schema_version", "payload", "metadata"]  # fmt: skip


class BadIdError(ValueError):
    """An id the page cannot look up (empty, too long, or an unknown stream type)."""


@dataclass(frozen=True)
class History:
    stream_id: str
    events: pd.DataFrame  # HISTORY_COLUMNS, in version order

    @property
    def found(self) -> bool:
        return not self.events.empty


def stream_id(kind: str, typed: str) -> str:
    """``U000001`` as a ``wallet`` -> ``wallet-U000001``; a full stream id of a known type
    (``loan-L000001``) is taken as it is."""
    text = typed.strip()
    if not text:
        raise BadIdError("type an id, e.g. U000001 or loan-L000001")
    if len(text) > MAX_ID_LENGTH:
        raise BadIdError(f"an id has at most {MAX_ID_LENGTH} characters")
    prefix = re.match(r"^([a-z]+)-", text)
    if prefix and prefix.group(1) in KINDS:
        return text
    if kind not in KINDS:
        raise BadIdError(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    return f"{kind}-{text}"


def history(store: EventStore, stream: str) -> History:
    records = store.load_stream(stream)
    rows: list[dict[str, Any]] = [
        {
            "version": r.version,
            "event_type": r.event_type,
            "occurred_at": r.occurred_at,
            "recorded_at": r.recorded_at,
            "position": r.position,
            "schema_version": r.schema_version,
            "payload": r.payload,
            "metadata": r.metadata,
        }
        for r in records
    ]
    return History(stream, pd.DataFrame(rows, columns=HISTORY_COLUMNS))


def state(store: EventStore, stream: str, at: datetime) -> dict[str, Any]:
    """The aggregate's JSON view as of ``at`` (UTC-aware): every event that occurred by then."""
    return state_at(store, stream, at).as_dict()
