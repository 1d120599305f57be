"""The simulation's shared state: seeded randomness, the clients' view, the incidents, the
agenda of follow-ups due at future simulated times, and seed-derived command ids."""

from __future__ import annotations

import heapq
import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.simulator.population import Population
from domain.simulator.scenario import Scenario
from domain.simulator.timeline import Timeline

_IDS = uuid.UUID("5b0e3f4e-8d7c-4c1a-9a57-2f1d6c0b9e11")  # namespace of simulator command ids


@dataclass(frozen=True)
class Due:
    """A follow-up: e.g. ("kyc", "U000001") or ("overdue", "L000007", number=3, days=15)."""

    kind: str
    key: str
    number: int = 0
    days: int = 0
    base: float = 0.0  # installments: when the installment fell due
    correlation: str | None = None  # the flow it belongs to (the first command's id)
    ref: str = ""  # a second id: the withdrawal of a payout


class Agenda:
    """Follow-ups ordered by simulated time (ties keep the order they were scheduled in)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Due]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, ts: float, due: Due) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, due))

    def next_time(self) -> float:
        return self._heap[0][0] if self._heap else math.inf

    def pop(self) -> tuple[float, Due]:
        ts, _, due = heapq.heappop(self._heap)
        return ts, due


class World:
    def __init__(self, scenario: Scenario, run_start: datetime, run_tag: str) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.population = Population(scenario.installment_every.total_seconds())
        self.timeline = Timeline(scenario.incidents, run_start, self.rng)
        self.agenda = Agenda()
        self.run_tag = run_tag  # different per run on one store: ids never repeat
        self._id_base = uuid.uuid5(_IDS, f"{scenario.seed}/{run_tag}").int
        self._commands = 0

    @property
    def loan_day(self) -> float:
        """Seconds of simulated time per day of a loan's life (a loan month is 30 of them)."""
        return self.population.every / 30

    def command_id(self) -> str:
        """Command ids follow from the seed and the run: the same run gives the same ids."""
        self._commands += 1
        return str(uuid.UUID(int=(self._id_base + self._commands) % 2**128))

    def later(self, ts: float, median_s: float, sigma: float, cap_s: float) -> float:
        """``ts`` plus a log-normal delay (a human or a provider taking their time)."""
        return ts + min(self.rng.lognormvariate(math.log(median_s), sigma), cap_s)
