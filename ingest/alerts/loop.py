"""The alert service of a running ingest: a tick thread evaluating every rule each
``evaluation_interval_s`` on an injectable clock, and one sender thread per sink."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from sqlalchemy import Engine

from domain.clock import Clock, utc_now
from domain.eventstore import EventStore
from ingest.alerts.notify import Sink, build_sinks
from ingest.alerts.observe import MetricSource
from ingest.alerts.sender import Sender
from ingest.alerts.tick import RuleSet, TickReport, run_tick
from ingest.metrics.query import MetricsQuery
from ingest.settings import Settings

log = logging.getLogger(__name__)
MetricsFactory = Callable[[Settings], MetricSource]


class AlertService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: EventStore,
        *,
        clock: Clock = utc_now,
        metrics: MetricsFactory | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self._metrics = metrics or (lambda s: MetricsQuery.from_settings(engine, s, clock=clock))
        self._environ = environ
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.senders: dict[str, Sender] = {}
        self._sender_threads: dict[str, tuple[threading.Thread, threading.Event]] = {}
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        self.interval = settings.alerts.evaluation_interval_s
        self.last_tick: TickReport | None = None
        self.problems: list[str] = []  # sinks that cannot run here, and why
        self.rules = self._ruleset(settings, [])
        self.configure(settings)

    # --- configuration (at start and on every valid config change) -----------------------

    def configure(self, settings: Settings) -> None:
        """Take a new rule set at once: states of unchanged rules carry on, removed rules
        stop (resolved if receivers knew them firing), new rules start normal."""
        sinks, self.problems = build_sinks(settings.alerts.notify.sinks, self._environ)
        if self._stop is not None:  # running: say it now (at start otherwise)
            self._report_problems()
        with self._lock:
            self.rules = self._ruleset(settings, sinks)
            self.interval = settings.alerts.evaluation_interval_s
            self._replace_senders(sinks)
        self.wake.set()  # evaluate with the new rules now, not at the next interval

    def _ruleset(self, settings: Settings, sinks: list[Sink]) -> RuleSet:
        alerts = settings.alerts
        return RuleSet(
            rules=tuple(alerts.rules) if alerts.enabled else (),
            zone=settings.business_timezone,
            notify=alerts.notify,
            metrics=self._metrics(settings),
            max_lag_s=alerts.max_ingest_lag_s,
            sinks={sink.name: sink.settings.min_severity for sink in sinks},
        )

    def _replace_senders(self, sinks: list[Sink]) -> None:
        wanted = {sink.name: sink for sink in sinks}
        for name in [n for n in self.senders if n not in wanted]:
            self.senders.pop(name).wake.set()
            thread = self._sender_threads.pop(name, None)
            if thread is not None:
                thread[1].set()
        for name, sink in wanted.items():
            if name in self.senders:
                self.senders[name].sink = sink  # the same queue, the new settings
            else:
                self.senders[name] = Sender(self.engine, sink, clock=self.clock)
                if self._stop is not None:
                    self._start_sender(name)

    # --- work ----------------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = run_tick(self.engine, self.store, self.rules, self.clock())
        self.last_tick = report
        if report.notified:
            for sender in list(self.senders.values()):
                sender.wake.set()
        return report

    def drain(self) -> int:
        """Deliver what is due on every sink, in this thread (tests, `--once`)."""
        return sum(sender.drain() for sender in list(self.senders.values()))

    # --- threads -------------------------------------------------------------------------

    def _report_problems(self) -> None:
        for problem in self.problems:
            log.error("alerts: %s", problem)

    def start(self, stop: threading.Event) -> None:
        self._report_problems()
        with self._lock:
            self._stop = stop
            for name in self.senders:
                self._start_sender(name)
        self._thread = threading.Thread(
            target=self._run, args=(stop,), name="alerts-tick", daemon=True
        )
        self._thread.start()

    def _start_sender(self, name: str) -> None:
        own_stop = threading.Event()
        sender = self.senders[name]
        thread = threading.Thread(
            target=sender.run, args=(own_stop,), name=f"alerts-{name}", daemon=True
        )
        self._sender_threads[name] = (thread, own_stop)
        thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # the database may be down: the next tick tries again
                log.warning("alerts: evaluation failed: %s", exc)
            self.wake.wait(self.interval)
            self.wake.clear()

    def join(self, timeout: float = 10.0) -> None:
        """After the runtime's stop event is set: stop the threads and wait for them."""
        self.wake.set()
        with self._lock:
            threads = list(self._sender_threads.values())
        for _, own_stop in threads:
            own_stop.set()
        for sender in list(self.senders.values()):
            sender.wake.set()
        for thread, _ in threads:
            thread.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
