"""What the composition root adds to a running ingest for alerts and hot reload."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from domain.clock import Clock, utc_now
from domain.eventstore import EventStore
from ingest.alerts.config_watch import ConfigWatcher
from ingest.alerts.freshness import METRICS_GROUP
from ingest.alerts.loop import AlertService
from ingest.settings import Settings


class Service(Protocol):
    """A background part of the runtime: started with the runtime's stop event, joined
    after it is set."""

    def start(self, stop: threading.Event) -> None: ...

    def join(self, timeout: float = 10.0) -> None: ...


def background_services(
    settings: Settings,
    store: EventStore,
    engine: Engine,
    groups: list[str],
    config_path: Path | None,
    clock: Clock = utc_now,
) -> tuple[AlertService | None, ConfigWatcher | None]:
    """Alerts run in the process that computes the metrics (the ``kpis`` group); the
    config watcher runs when the configuration came from a file."""
    alerts = AlertService(settings, engine, store, clock=clock) if METRICS_GROUP in groups else None
    watcher = None
    if config_path is not None:
        watcher = ConfigWatcher(config_path, settings, engine=engine, clock=clock)
        if alerts is not None:
            watcher.on_valid.append(alerts.configure)
    return alerts, watcher
