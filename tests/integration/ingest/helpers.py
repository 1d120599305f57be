"""Builders and probes shared by the ingest integration tests."""

from __future__ import annotations

import contextlib
import io
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, text

from domain.events import EVENT_TYPES
from domain.eventstore import Checkpoint, EventStore, NewEvent, StreamAppend
from ingest import cli
from ingest.checkpoints import load_checkpoint
from ingest.runtime import Runtime
from tests.integration.ingest.handlers import HANDLER

BASE_TIME = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
EVENT_CYCLE = ("FundsDeposited", "FundsInvested", "WithdrawalRequested", "RepaymentCredited")
CountKey = tuple[str, int]  # (event_type, epoch minute)


def wallet(n: int) -> str:
    return f"wallet-U{n:06d}"


def new_event(n: int, user: str, *, poison: bool = False) -> NewEvent:
    """The ``n``-th event of the history: types cycle, three seconds of business time apart."""
    event_type = EVENT_CYCLE[n % len(EVENT_CYCLE)]
    payload: dict[str, Any] = {
        "user_id": user,
        "amount": f"{100 + n % 900}.{n % 100:02d}",
        "currency": "CNY",
        "channel": "alipay",
        "n": n,
    }
    if poison:
        payload["poison"] = True
    return NewEvent(
        event_type,
        payload,
        schema_version=EVENT_TYPES[event_type].schema_version,
        occurred_at=BASE_TIME + timedelta(seconds=3 * n),
    )


class History:
    """Appends rounds of events to many wallet streams, several streams per transaction."""

    def __init__(self, store: EventStore, streams: int, *, start: int = 0) -> None:
        self.store = store
        self.streams = [wallet(i) for i in range(1, streams + 1)]
        self.versions = dict.fromkeys(self.streams, 0)
        self.n = start

    def append_round(
        self,
        per_stream: int = 1,
        *,
        poison: Collection[tuple[str, int]] = (),
        streams_per_tx: int = 100,
        only: Collection[str] | None = None,
    ) -> int:
        """Give every stream (or ``only`` these) ``per_stream`` more events; return how many."""
        targets = [s for s in self.streams if only is None or s in only]
        appended = 0
        for start in range(0, len(targets), streams_per_tx):
            appends = []
            for stream in targets[start : start + streams_per_tx]:
                batch = []
                for offset in range(1, per_stream + 1):
                    version = self.versions[stream] + offset
                    user = stream.removeprefix("wallet-")
                    batch.append(new_event(self.n, user, poison=(stream, version) in poison))
                    self.n += 1
                appends.append(StreamAppend(stream, "wallet", self.versions[stream], batch))
            self.store.append_streams(appends)
            for append in appends:
                self.versions[append.stream_id] += len(append.events)
                appended += len(append.events)
        return appended


def write_config(
    path: Path,
    url: str,
    *,
    groups: list[dict[str, Any]] | None = None,
    ingest: dict[str, Any] | None = None,
    pool_size: int = 8,
    application_name: str | None = None,
) -> Path:
    database: dict[str, Any] = {"url": url, "pool_size": pool_size}
    if application_name is not None:
        database["application_name"] = application_name
    document = {
        "database": database,
        "ingest": {"idle_wait_s": 0.2, "status_interval_s": 0.2, **(ingest or {})},
        "groups": groups
        if groups is not None
        else [{"name": "kpis", "handler": "builtin:kpis", "critical": True}],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def kpis_group(**extra: Any) -> dict[str, Any]:
    return {"name": "kpis", "handler": "builtin:kpis", "critical": True, **extra}


def recording_group(name: str, policy: str, **options: Any) -> dict[str, Any]:
    batch_size = options.pop("batch_size", None)
    group: dict[str, Any] = {
        "name": name,
        "handler": HANDLER,
        "error_policy": policy,
        "options": {"group": name, **options},
    }
    if batch_size is not None:
        group["batch_size"] = batch_size
    return group


# --- reading the truth and the read models ----------------------------------------------


def _minute_sql(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        return "floor(extract(epoch FROM occurred_at) / 60)::bigint"
    return "CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) / 60"


def direct_counts(engine: Engine, upto: Checkpoint | None = None) -> Counter[CountKey]:
    """Events per (type, minute) straight from the ``events`` table (up to a checkpoint)."""
    minute = _minute_sql(engine)
    where = ""
    params: dict[str, int] = {}
    if upto is not None:
        where = "WHERE tx_id < :tx OR (tx_id = :tx AND position <= :pos)"
        params = {"tx": upto.tx_id, "pos": upto.position}
    query = text(
        f"SELECT event_type, {minute} AS minute, count(*) FROM events {where} "
        "GROUP BY event_type, minute"
    )
    with engine.connect() as conn:
        return Counter({(str(r[0]), int(r[1])): int(r[2]) for r in conn.execute(query, params)})


def projected_counts(engine: Engine, generation: int | None = None) -> Counter[CountKey]:
    """``rm_event_counts`` of the given or the active generation of ``kpis``."""
    with engine.connect() as conn:
        if generation is None:
            generation = active_generation(engine, "kpis")
        rows = conn.execute(
            text("SELECT event_type, minute, events FROM rm_event_counts WHERE generation = :g"),
            {"g": generation},
        )
        return Counter({(str(r[0]), int(r[1])): int(r[2]) for r in rows})


def active_generation(engine: Engine, group: str) -> int:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT active FROM ingest_generations WHERE group_name = :g"), {"g": group}
        ).scalar()
    return 1 if value is None else int(value)


def generations_present(engine: Engine) -> set[int]:
    query = text("SELECT DISTINCT generation FROM rm_event_counts")
    with engine.connect() as conn:
        return {int(r[0]) for r in conn.execute(query)}


def handled_rows(engine: Engine, group: str) -> list[tuple[int, str, int]]:
    """(position, stream_id, version) the recording projection applied, in apply order."""
    query = text(
        "SELECT position, stream_id, version FROM rm_test_handled WHERE group_name = :g "
        "AND generation = (SELECT active FROM ingest_generations WHERE group_name = :g) "
        "ORDER BY id"
    )
    with engine.connect() as conn:
        return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query, {"g": group})]


def all_positions(engine: Engine) -> list[tuple[int, str, int]]:
    query = text("SELECT position, stream_id, version FROM events ORDER BY tx_id, position")
    with engine.connect() as conn:
        return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]


def checkpoint_of(engine: Engine, group: str) -> Checkpoint:
    with engine.connect() as conn:
        return load_checkpoint(conn, group)


def dead_letter_rows(engine: Engine, group: str) -> list[dict[str, Any]]:
    query = text(
        "SELECT id, position, stream_id, version, state, reason, error FROM ingest_dead_letters "
        "WHERE group_name = :g ORDER BY id"
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query, {"g": group})]


# --- driving the runtime -------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@contextlib.contextmanager
def running(runtime: Runtime, join_timeout: float = 30.0) -> Iterator[Runtime]:
    """Run every group in a background thread; stop, join and close on exit."""
    thread = threading.Thread(target=runtime.run, name="ingest-runtime", daemon=True)
    thread.start()
    try:
        yield runtime
    finally:
        runtime.stop.set()
        thread.join(join_timeout)
        runtime.close()
        if thread.is_alive():
            raise AssertionError(f"the runtime did not stop within {join_timeout}s")


def run_cli(*argv: str) -> tuple[int, str]:
    """``python -m ingest ARGV`` in this process; returns (exit code, stdout).

    ``run`` installs SIGTERM/SIGINT handlers; pytest's own are put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = cli.main(list(argv))
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    return code, out.getvalue()


def table_head(engine: Engine) -> Checkpoint:
    """The last committed event, read from the table itself.

    ``store.head()`` on PostgreSQL hides events until every older writing transaction on the
    whole server has ended (its gap-safety horizon): on a shared server, someone else's open
    transaction can make it lag behind, or even read as START, for a while."""
    query = text("SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1")
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return Checkpoint() if row is None else Checkpoint(int(row[0]), int(row[1]))


def caught_up(engine: Engine, store: EventStore, group: str) -> bool:
    """``group`` has consumed every event committed so far (``store`` is kept for clarity)."""
    return checkpoint_of(engine, group) == table_head(engine)
