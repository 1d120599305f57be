"""Chooses the next command: client actions arrive at random (a Poisson process shaped by
the daily cycle and the incidents), follow-ups when they fall due; earliest first.

The target is ``rate x daily factor`` events per second; ``pacing.py`` turns it into an
arrival intensity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from domain.commands import Command
from domain.events import DomainEvent
from domain.simulator import clients, followups, lifecycle
from domain.simulator.pacing import Pacing
from domain.simulator.timeline import daily_factor
from domain.simulator.world import World

MAX_GAP = 30.0  # seconds: the intensity is re-read at least this often
_REGISTER, _APPLY = clients.KINDS.index("register"), clients.KINDS.index("apply")


@dataclass(frozen=True)
class Step:
    ts: float  # simulated time, epoch seconds
    command: Command
    spontaneous: bool  # a client's own action (counts for rate control)


class Traffic:
    def __init__(self, world: World, rate: float, now: float) -> None:
        self.world = world
        self.rate = rate
        self.now = now
        self.pacing = Pacing()
        self.cycle = 1.0  # how strongly the daily curve shapes the rate (1: fully)
        self._next_arrival = now
        self._real = False
        self._draw_arrival(now)

    def retarget(self, rate: float, now: float, cycle: float | None = None) -> None:
        """A new rate (and daily-cycle strength) from ``now`` on: the live phase."""
        self.rate, self.now = rate, max(self.now, now)
        self.cycle = self.cycle if cycle is None else cycle
        self._draw_arrival(self.now)

    def skip_to(self, now: float) -> None:
        """Forget client arrivals that fell behind ``now`` (a live run that could not keep up)."""
        if self._next_arrival < now:
            self.now = max(self.now, now)
            self._draw_arrival(self.now)

    def next_time(self) -> float:
        return min(self._next_arrival, self.world.agenda.next_time())

    def next_step(self, until: float) -> Step | None:
        """The next command at or before ``until`` (epoch seconds), or None if there is none."""
        world = self.world
        while True:
            due_at = world.agenda.next_time()
            if min(due_at, self._next_arrival) > until:
                return None
            if due_at <= self._next_arrival:
                ts, due = world.agenda.pop()
                self.now = max(self.now, ts)
                command = lifecycle.command_for(world, due, self.now)
                if command is not None:
                    return Step(self.now, command, spontaneous=False)
                continue
            self.now = max(self.now, self._next_arrival)
            real = self._real
            self._draw_arrival(self.now)
            if not real:
                continue
            self.pacing.arrival()
            weights = self._weights(self.now)
            kind = world.rng.choices(clients.KINDS, weights)[0]
            command = clients.act(world, kind, self.now)
            if command is not None:
                return Step(self.now, command, spontaneous=True)

    def accepted(self, step: Step, events: Sequence[DomainEvent]) -> None:
        """The platform accepted ``step``: learn its events, schedule their follow-ups."""
        correlation = step.command.correlation_id or step.command.command_id
        for event in events:
            self.world.population.apply(event, step.ts, correlation)
        for event in events:
            followups.react(self.world, event, step.ts, correlation)
        if step.spontaneous:
            self.pacing.own_events(len(events))
        else:
            self.pacing.followup_events(len(events), step.ts)

    def _weights(self, ts: float) -> list[float]:
        weights = list(clients.WEIGHTS)
        weights[_REGISTER] *= self.world.timeline.registration_boost(ts)
        listed = len(self.world.population.listing)  # borrowers apply more when few are listed
        weights[_APPLY] *= 3.0 if listed < 10 else 1.0 if listed < 40 else 0.3
        return weights

    def intensity(self, ts: float) -> float:
        """Client arrivals per second at ``ts``."""
        target = self.rate * self.cycle_factor(ts)
        return self.pacing.intensity(target, sum(self._weights(ts)), ts)

    def cycle_factor(self, ts: float) -> float:
        """The daily curve at ``ts``, damped by ``cycle`` (its mean over a day stays 1)."""
        return 1 + self.cycle * (daily_factor(ts, self.world.scenario.timezone) - 1)

    def _draw_arrival(self, ts: float) -> None:
        intensity = self.intensity(ts)
        gap = self.world.rng.expovariate(intensity) if intensity > 0 else math.inf
        # Past MAX_GAP nothing arrives, and the intensity is re-read (exact: memoryless).
        self._real = gap <= MAX_GAP
        self._next_arrival = ts + min(gap, MAX_GAP)
