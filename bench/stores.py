"""Simulated event stores for the ingest benchmarks, generated once and cached.

A store of about ``events`` events is the simulator's backfill over 30 days ending at
``END`` (``--backfill 30d`` at ``events / 30 days``); its first quarter of the events is
copied out as the "young" store: the same platform with a quarter of the history. Stores are cached
by size and seed: a SQLite file with a JSON note beside it, or a PostgreSQL schema holding
a ``bench_meta`` row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.common import timed
from bench.databases import (
    connect,
    create_pg_schema,
    pg_admin,
    remove_sqlite,
    sqlite_path,
    sqlite_url,
)
from bench.store_cache import StoreInfo, cached, meta_path, remember
from domain.eventstore import EventStore
from domain.simulator.scenario import Scenario
from domain.simulator.session import Simulation

__all__ = ["END", "SPAN", "StoreInfo", "connect", "generated_store", "prefix_store"]

END = datetime(2024, 5, 8, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=30)
STORE_TABLES = ("events", "commands", "snapshots", "bench_meta")


def density(events: int) -> float:
    """Backfill events per simulated second for about ``events`` events in 30 days."""
    return events / SPAN.total_seconds()


def generated_store(backend: str, events: int, seed: int) -> StoreInfo:
    """The simulated store of ``events`` events (cached), generating it if needed."""
    name = f"sim_{events}_{seed}"
    hit = cached(backend, name)
    if hit is not None:
        return hit
    url = fresh(backend, name)
    scenario = Scenario(seed=seed, backfill_rate=density(events))
    store = EventStore.from_url(url)
    try:
        simulation = Simulation(store, scenario, now=END, progress=False, out=lambda _: None)
        seconds, _ = timed(lambda: simulation.run(backfill=SPAN, duration=timedelta(0)))
    finally:
        store.close()
    analyze(backend, url)
    count, first, last = describe(url)
    info = StoreInfo(url, name, count, first, last, seconds, count / seconds)
    remember(backend, name, info)
    return info


def prefix_store(backend: str, source: StoreInfo, events: int, name: str) -> StoreInfo:
    """A copy of ``source``'s first ``events`` events (cached): the same history, younger."""
    hit = cached(backend, name)
    if hit is not None:
        return hit
    url = fresh(backend, name)
    with connect(source.url) as conn:
        row = conn.execute(
            f"SELECT position FROM events ORDER BY position LIMIT 1 OFFSET {events - 1}"
        ).fetchone()
    copy_events(backend, source, name, url, None if row is None else int(row[0]))
    count, first, last = describe(url)
    info = StoreInfo(url, name, count, first, last)
    remember(backend, name, info)
    return info


def describe(url: str) -> tuple[int, str, str]:
    sql = "SELECT count(*), min(occurred_at), max(occurred_at) FROM events"
    with connect(url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0]), str(row[1]), str(row[2])


def reset_read_model(url: str) -> None:
    """Drop every table beside the store's own (the read model of an earlier replay)."""
    with connect(url) as conn:
        if url.startswith("sqlite"):
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            names = [r[0] for r in rows if not r[0].startswith("sqlite_")]
        else:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchall()
            names = [r[0] for r in rows]
        for table in names:
            if table not in STORE_TABLES:
                conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        if url.startswith("sqlite"):
            conn.execute("VACUUM")


def fresh(backend: str, name: str) -> str:
    if backend == "sqlite":
        path = sqlite_path(name)
        remove_sqlite(path)
        meta_path(name).unlink(missing_ok=True)
        url = sqlite_url(path)
    else:
        url = create_pg_schema(name)
    EventStore.from_url(url).close()  # creates the store's tables
    return url


def copy_events(backend: str, source: StoreInfo, target: str, url: str, last: int | None) -> None:
    """Copy the events (up to position ``last``) of ``source`` into the store at ``url``."""
    columns = (
        "position, tx_id, stream_id, stream_type, version, event_type, schema_version, "
        "occurred_at, recorded_at, payload, metadata"
    )
    if backend == "sqlite":
        with connect(url) as conn:
            conn.execute("ATTACH DATABASE ? AS src", (source.url.removeprefix("sqlite:///"),))
            where, args = ("", ()) if last is None else (" WHERE position <= ?", (last,))
            conn.execute("BEGIN")
            conn.execute(
                f"INSERT INTO events ({columns}) SELECT {columns} FROM src.events{where} "
                "ORDER BY position",
                args,
            )
            conn.execute("COMMIT")
            conn.execute("DETACH DATABASE src")
    else:
        with pg_admin() as conn:
            where = "" if last is None else " WHERE position <= %s"
            conn.execute(
                f'INSERT INTO "{target}".events ({columns}) SELECT {columns} '
                f'FROM "{source.name}".events{where} ORDER BY position',
                () if last is None else (last,),
            )
            # the copied positions were given explicitly: move the sequence past them, so
            # that a later append (a live run on a copy) does not collide with position 1
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{target}\".events', 'position'), "
                f'(SELECT max(position) FROM "{target}".events))'
            )
    analyze(backend, url)


def analyze(backend: str, url: str) -> None:
    with connect(url) as conn:
        conn.execute("ANALYZE" if backend == "sqlite" else "VACUUM ANALYZE events")
