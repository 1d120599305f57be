"""One simulator run: read back the store, backfill history, catch up, then go live."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tqdm import tqdm

from domain.clock import require_utc, utc_now
from domain.eventstore import EventStore
from domain.simulator import followups, runner
from domain.simulator.cache import CachingStore
from domain.simulator.resume import read_back
from domain.simulator.scenario import Scenario
from domain.simulator.stats import Stats
from domain.simulator.traffic import Traffic
from domain.simulator.world import World

CATCH_UP_SLACK = 1.0  # seconds: a gap this small between backfill and live is left alone


class Simulation:
    def __init__(
        self,
        store: EventStore,
        scenario: Scenario,
        *,
        now: datetime | None = None,
        chunk: int = 2_000,
        progress: bool = True,
        report_every: float = 5.0,
        out: Callable[[str], Any] = print,
    ) -> None:
        self.store, self.scenario = CachingStore(store), scenario
        self.run_start = require_utc(now or utc_now(), "now")
        self.catch_up = now is None  # a given end of history is not moved up to the clock
        self.chunk, self.progress, self.report_every, self.out = chunk, progress, report_every, out
        head = store.head()
        self.world = World(scenario, self.run_start, run_tag=f"{head.tx_id}.{head.position}")
        self.backfill_stats, self.live_stats = Stats(), Stats()
        self.traffic: Traffic | None = None
        self._reported = False  # the backfill summary was printed

    def run(self, backfill: timedelta | None = None, duration: timedelta | None = None) -> None:
        """Backfill ``backfill`` of history up to the run start, then live for ``duration``
        (None: until interrupted; zero: no live phase)."""
        if self.store.head().position:
            self.out("reading back the stored history (its clients carry on) ...")
        history = read_back(self.world, self.store, also=self.store.remember)
        self.store.know_streams(history.streams)
        if history.events:
            self.out(
                f"continuing {history.events:,} stored events "
                f"({len(self.world.population.clients):,} users, "
                f"{len(self.world.population.loans):,} loans)"
            )
        end = self.run_start.timestamp()
        begin = end if backfill is None else end - backfill.total_seconds()
        if history.last_occurred is not None and history.last_occurred.timestamp() > begin:
            if backfill is not None:
                self.out(
                    f"history already reaches {_local(history.last_occurred, self.scenario)}"
                    "; backfilling only after it"
                )
            begin = min(end, history.last_occurred.timestamp())
        followups.resume(self.world, begin)
        self.traffic = Traffic(self.world, self.scenario.backfill_rate, begin)
        backfilled = begin < end
        if backfilled:
            self._backfill(self.traffic, end)
        if duration is not None and duration <= timedelta(0):
            return
        self.traffic.retarget(self.scenario.rate, self.traffic.now, cycle=self.scenario.live_cycle)
        caught_up = Stats()
        while backfilled and self.catch_up and time.time() - self.traffic.now > CATCH_UP_SLACK:
            # the backfill took a while: fill the gap up to the wall clock
            runner.backfill(self.traffic, self.store, time.time(), caught_up, chunk=self.chunk)
        if caught_up.commands:
            self.out(f"caught up with the clock: {caught_up.total:,} more events")
        live_start = datetime.now(UTC)
        self.live_stats = Stats()
        for window in self.world.timeline.place(live_start):
            self.out(
                f"incident {window.kind} {_local(window.start, self.scenario)} - "
                f"{_local(window.end, self.scenario)}"
                + (f" on {window.channel}" if window.channel else "")
            )
        factor = self.traffic.cycle_factor(live_start.timestamp())
        self.out(
            f"live: {self.scenario.rate:g} events/s on average, {self.scenario.rate * factor:.3g} "
            + (
                f"now (daily cycle at {self.scenario.live_cycle:.0%}, "
                f"{self.scenario.timezone.key}), "
                if self.scenario.live_cycle
                else "now (flat: no daily cycle), "
            )
            + ("until Ctrl-C" if duration is None else f"for {duration}")
        )
        runner.live(
            self.traffic,
            self.store,
            self.live_stats,
            rate=self.scenario.rate,
            duration=None if duration is None else duration.total_seconds(),
            report_every=self.report_every,
            out=self.out,
        )

    def _backfill(self, traffic: Traffic, end: float) -> None:
        begin = traffic.now
        stats = self.backfill_stats = Stats()
        self.out(
            f"backfill: {_local(begin, self.scenario)} -> {_local(end, self.scenario)}, "
            f"{self.scenario.backfill_rate:.3g} events per simulated second"
        )
        bar = tqdm(
            total=round(end - begin),
            disable=not self.progress,
            unit="sim-s",
            unit_scale=True,
            desc="backfill",
            dynamic_ncols=True,
        )

        def advance(now: float) -> None:
            bar.update(round(now - begin) - bar.n)
            bar.set_postfix_str(
                f"{stats.total:,} events, {stats.total / stats.elapsed():,.0f}/s", refresh=False
            )

        try:
            runner.backfill(traffic, self.store, end, stats, chunk=self.chunk, on_chunk=advance)
        finally:
            bar.close()
        self.out(stats.summary("backfill"))
        self._reported = True

    def summary(self) -> str:
        """What the run wrote (the backfill only if its own summary was not printed)."""
        parts = []
        if self.backfill_stats.commands and not self._reported:
            parts.append(self.backfill_stats.summary("backfill (interrupted)"))
        if self.live_stats.commands:
            parts.append(self.live_stats.summary("live"))
        return "\n".join(parts)


def _local(moment: datetime | float, scenario: Scenario) -> str:
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    local = datetime.fromtimestamp(moment, scenario.timezone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")
