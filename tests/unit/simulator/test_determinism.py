from __future__ import annotations

from domain.eventstore.memory import InMemoryEventStore
from tests.unit.simulator.helpers import all_events, backfill


def history(seed: int, hours: float = 1) -> list[tuple[object, ...]]:
    store = InMemoryEventStore()
    backfill(store, seed=seed, hours=hours, incidents=("payment-outage@-30m:15m",))
    return [
        (r.stream_id, r.event_type, r.payload, r.occurred_at, r.metadata) for r in all_events(store)
    ]


def test_the_same_seed_writes_the_same_events_payloads_times_and_command_ids():
    first, second = history(seed=5), history(seed=5)
    assert len(first) > 1_000
    assert first == second


def test_another_seed_writes_another_history():
    assert history(seed=5, hours=0.5)[:200] != history(seed=6, hours=0.5)[:200]
