"""Fixtures of the alert tests: a database per backend, a bench on it, a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from domain.eventstore.engine import make_engine
from domain.eventstore.schema import create_schema
from domain.eventstore.sql import SqlEventStore
from domain.settings import DATABASE_URL_ENV
from ingest.cli import CONFIG_ENV
from tests.clock import ManualClock
from tests.integration.alerts.bench import SPIKE, Bench, settings_with


@pytest.fixture(autouse=True)
def _settings_come_from_the_test_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledgerlens.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> str:
    """SQLite, and a private PostgreSQL schema (storage and exactly-once tests)."""
    return str(request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_url"))


def open_store(url: str, clock: ManualClock) -> SqlEventStore:
    engine = make_engine(url, pool_size=4)
    create_schema(engine)
    return SqlEventStore(engine, clock=clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def bench(sqlite_db: str, clock: ManualClock) -> Iterator[Bench]:
    store = open_store(sqlite_db, clock)
    try:
        yield Bench(store, settings_with([SPIKE]), clock)
    finally:
        store.engine.dispose()


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST; answers 200, or ``fail`` times
    500 first, or sleeps ``delay`` seconds before answering."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail = 0
        self.delay = 0.0
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.headers.append(dict(self.headers))
                receiver.received.append(json.loads(body))
                status = 500 if receiver.fail > 0 else 200
                receiver.fail = max(receiver.fail - 1, 0)
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), found.handler())
    server.daemon_threads = True
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
