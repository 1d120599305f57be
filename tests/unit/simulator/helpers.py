"""Running the simulator in tests: a backfill up to a fixed moment, quietly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.eventstore import EventStore, RecordedEvent
from domain.simulator.scenario import Scenario, parse_incident
from domain.simulator.session import Simulation

NOW = datetime(2024, 5, 8, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai


def backfill(
    store: EventStore,
    *,
    seed: int = 2,
    hours: float = 6,
    now: datetime = NOW,
    incidents: tuple[str, ...] = (),
    installment_every: timedelta = timedelta(days=1),
    rate: float | None = None,
) -> Simulation:
    scenario = Scenario(
        seed=seed,
        installment_every=installment_every,
        incidents=tuple(parse_incident(text) for text in incidents),
        **({} if rate is None else {"backfill_rate": rate}),
    )
    simulation = Simulation(store, scenario, now=now, progress=False, out=lambda _: None)
    simulation.run(backfill=timedelta(hours=hours), duration=timedelta(0))
    return simulation


def all_events(store: EventStore) -> list[RecordedEvent]:
    return store.read_all(limit=10**7)


def between(records: list[RecordedEvent], start: datetime, end: datetime) -> list[RecordedEvent]:
    return [r for r in records if start <= r.occurred_at < end]
