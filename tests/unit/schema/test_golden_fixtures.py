"""Every stored shape of every event still loads, rebuilds aggregates and projects metrics.

``tests/fixtures/stored_events.jsonl`` holds events as they sit in the ``events`` table, one per
line, of every schema version ever written; ``event_shapes.json`` records each version's field
set. Both are history: add to them, never rewrite them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.events import EVENT_TYPES
from domain.eventstore import NewEvent, RecordedEvent, StreamAppend
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import bootstrap
from domain.serialization import from_recorded, to_payload, upcast_record
from domain.upcasting import UPCASTERS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def stored_rows() -> list[dict[str, Any]]:
    lines = (FIXTURES / "stored_events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def as_record(row: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        **{
            **row,
            "occurred_at": datetime.fromisoformat(row["occurred_at"]),
            "recorded_at": datetime.fromisoformat(row["recorded_at"]),
        }
    )


SHAPES: dict[str, dict[str, list[str]]] = json.loads(
    (FIXTURES / "event_shapes.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_an_event_class_keeps_the_shape_recorded_for_its_version(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]
    fields = sorted(f.name for f in dataclasses.fields(cls))
    recorded = SHAPES.get(event_type, {}).get(str(cls.schema_version))
    assert recorded is not None, (
        f"{event_type} v{cls.schema_version} has no recorded shape: add events of this version "
        "to tests/fixtures/stored_events.jsonl and their fields to event_shapes.json"
    )
    assert fields == recorded, (
        f"{event_type} changed shape without a schema_version bump: it was {recorded}, it is "
        f"{fields}. Bump schema_version, add an upcaster from the old version "
        "(domain/upcasting.py) and fixtures of the new version (docs/event-store.md)"
    )


@pytest.mark.parametrize("event_type", sorted(SHAPES))
def test_every_older_version_has_an_upcaster_to_the_next(event_type: str) -> None:
    current = EVENT_TYPES[event_type].schema_version
    for version in range(1, current):
        if str(version) in SHAPES[event_type]:
            assert (event_type, version) in UPCASTERS, f"{event_type} v{version} has no upcaster"


def test_every_recorded_version_of_every_type_has_a_stored_example() -> None:
    examples = {(row["event_type"], str(row["schema_version"])) for row in stored_rows()}
    recorded = {(t, v) for t, versions in SHAPES.items() for v in versions}
    assert recorded <= examples
    assert {(t, str(cls.schema_version)) for t, cls in EVENT_TYPES.items()} <= examples


@pytest.mark.parametrize(
    "row", stored_rows(), ids=lambda r: f"{r['event_type']}-v{r['schema_version']}-{r['position']}"
)
def test_every_stored_event_loads_as_the_current_version(row: dict[str, Any]) -> None:
    event = from_recorded(as_record(row))
    assert type(event).schema_version == EVENT_TYPES[row["event_type"]].schema_version
    lifted = upcast_record(as_record(row))
    assert lifted.payload == to_payload(event)


def test_a_version_1_deposit_keeps_its_amount_exactly_and_gains_currency_and_channel() -> None:
    rows = [
        r for r in stored_rows() if r["event_type"] == "FundsDeposited" and r["schema_version"] == 1
    ]
    events = [from_recorded(as_record(row)) for row in rows]
    assert [(e.amount, e.currency, e.channel) for e in events] == [  # type: ignore[attr-defined]
        (Decimal("1234.50"), "CNY", "unionpay"),
        (Decimal("88.00"), "CNY", "wechat_pay"),
    ]


def test_aggregates_rebuild_from_every_stored_version() -> None:
    store = InMemoryEventStore()
    for row in stored_rows():
        record = as_record(row)
        new = NewEvent(record.event_type, record.payload, record.schema_version, record.occurred_at)
        store.append_streams(
            [StreamAppend(record.stream_id, record.stream_type, record.version - 1, [new])]
        )
    platform = bootstrap(store, snapshot_interval=0)
    streams = sorted({row["stream_id"] for row in stored_rows()})
    states = {stream: platform.load(stream) for stream in streams}
    assert states["wallet-U9"].balance == Decimal("1322.50")
    assert states["user-U9"].referrer is None
    assert states["loan-L1"].status == "settled"
    assert states["loan-L3"].status == "defaulted"
