"""The composition root of the ingest process: one store, one pool per database, one
thread per processing group, one waker for all of them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, MetaData

from domain.clock import Clock, utc_now
from domain.eventstore import EventStore
from domain.eventstore.engine import make_engine
from domain.eventstore.sql import SqlEventStore
from ingest.alerts import tables as alert_tables
from ingest.alerts.config_watch import ConfigWatcher
from ingest.alerts.loop import AlertService
from ingest.alerts.wiring import Service, background_services
from ingest.collector import tune_collector
from ingest.processor import GroupProcessor
from ingest.projection import Projection, load_projection
from ingest.readmodel import create_read_model
from ingest.settings import APPLICATION_NAME, GroupSettings, Settings
from ingest.waker import Waker

log = logging.getLogger(__name__)
__all__ = ["APPLICATION_NAME", "Runtime", "bootstrap"]


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    engine: Engine  # the read-model database
    processors: list[GroupProcessor]
    waker: Waker
    stop: threading.Event = field(default_factory=threading.Event)
    failures: dict[str, BaseException] = field(default_factory=dict)
    _owns_engine: bool = False
    _current: dict[str, Settings] = field(default_factory=dict)
    # --- alerts and hot reload: started by run() unless `once` -----------------------------
    alerts: AlertService | None = None
    watcher: ConfigWatcher | None = None  # on_valid: apply_settings, then the alert rules

    def apply_settings(self, settings: Settings) -> None:
        """Hot reload: every group takes the new settings between two of its batches
        (the metrics projection backfills new or changed metrics, drops removed ones)."""
        self.settings = settings
        self._current["settings"] = settings
        for processor in self.processors:
            processor.reconfigure(settings)

    def run(self, *, once: bool = False) -> bool:
        """Run every group until stopped (or, with ``once``, until all are caught up).

        Returns False when a group gave up (only possible with ``once``)."""
        tune_collector()
        # --once exits as soon as the groups are done: the waker's wait must end quickly
        waker_thread = threading.Thread(
            target=self.waker.run,
            args=(self.stop,),
            kwargs={"timeout": 0.05 if once else None},
            name="ingest-waker",
            daemon=True,
        )
        waker_thread.start()
        services = [] if once else self._start_services()
        threads = [
            threading.Thread(
                target=self._run_group, args=(processor, once), name=f"group-{processor.name}"
            )
            for processor in self.processors
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()
            waker_thread.join(timeout=5)
            for service in services:
                service.join(timeout=10)
        return not self.failures

    def _start_services(self) -> list[Service]:
        services: list[Service] = [s for s in (self.alerts, self.watcher) if s is not None]
        if self.watcher is not None:
            self.watcher.record_start()
        for service in services:
            service.start(self.stop)
        return services

    def _run_group(self, processor: GroupProcessor, once: bool) -> None:
        try:
            processor.run(self.stop, self.waker, once=once)
        except BaseException as exc:  # recorded and reported; other groups keep going
            log.error("group %s stopped: %s", processor.name, exc)
            self.failures[processor.name] = exc

    def close(self) -> None:
        self.stop.set()
        if self._owns_engine:
            self.engine.dispose()
        self.store.close()


def bootstrap(
    settings: Settings,
    *,
    only: list[str] | None = None,
    store: EventStore | None = None,
    projections: dict[str, Projection] | None = None,
    config_path: Path | None = None,
    clock: Clock = utc_now,
) -> Runtime:
    """Wire the runtime from settings; tests pass their own store or projections."""
    groups = [g for g in settings.groups if only is None or g.name in only]
    if only is not None:
        missing = sorted(set(only) - {g.name for g in groups})
        if missing:
            raise KeyError(f"no processing group named {', '.join(missing)} in the config")
    if store is None:
        store = EventStore.from_url(
            settings.database.url,
            pool_size=settings.database.pool_size,
            application_name=settings.database.application_name,
        )
    owns_engine = settings.read_model.url is not None or not isinstance(store, SqlEventStore)
    if isinstance(store, SqlEventStore) and settings.read_model.url is None:
        engine = store.engine  # one pool per database: the read model shares the events' pool
    else:
        engine = make_engine(
            settings.read_model_url,
            pool_size=settings.read_model.pool_size,
            application_name=settings.database.application_name,
        )
    built = {
        g.name: (projections or {}).get(g.name)
        or load_projection(g.handler, g.options, settings=settings, group=g)
        for g in groups
    }
    extra: list[MetaData] = [p.metadata for p in built.values() if p.metadata is not None]
    create_read_model(engine, *extra, alert_tables.metadata)
    current = {"settings": settings}  # hot reload replaces it (Runtime.apply_settings)

    def factory(group: GroupSettings) -> Callable[[], Projection]:
        given = (projections or {}).get(group.name)
        if given is not None:
            return lambda: given
        return lambda: load_projection(
            group.handler, group.options, settings=current["settings"], group=group
        )

    processors = [
        GroupProcessor(g, built[g.name], store, engine, settings.ingest, factory(g)) for g in groups
    ]
    runtime = Runtime(
        settings=settings,
        store=store,
        engine=engine,
        processors=processors,
        waker=Waker(store, timeout=min(0.25, settings.ingest.idle_wait_s)),
        _current=current,
        _owns_engine=owns_engine,
    )
    runtime.alerts, runtime.watcher = background_services(
        settings, store, engine, [g.name for g in groups], config_path, clock
    )
    if runtime.watcher is not None:  # the groups take a valid change first, then the alerts
        runtime.watcher.on_valid.insert(0, runtime.apply_settings)
    return runtime
