"""Read-model tables of the metrics and their exactly-once upserts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    select,
    tuple_,
)

from domain.eventstore.engine import dialect_insert

metadata = MetaData()

buckets = Table(
    "rm_metric_buckets",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("metric", String(100), primary_key=True),
    Column("resolution", Integer, primary_key=True),  # 60 | 3600 | 86400 (business day)
    Column("bucket_start", BigInteger, primary_key=True),  # epoch seconds
    Column("dim", String(200), primary_key=True),  # value of `by`, "" when none
    Column("n", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),  # scaled integer (2 decimals: fen)
    Column("vmin", BigInteger),
    Column("vmax", BigInteger),
    Column("sketch", LargeBinary),
)

spans = Table(
    "rm_metric_spans",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("metric", String(100), primary_key=True),
    Column("span_key", String(200), primary_key=True),
    Column("started_at", Float, nullable=False),  # epoch seconds
)

counters = Table(
    "rm_metric_counters",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("name", String(300), primary_key=True),  # late_events | watermark | missing:M:F ...
    Column("value", BigInteger, nullable=False),
)

definitions = Table(
    "rm_metric_definitions",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("metric", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # of what decides the metric's figures
    Column("live", Integer, nullable=False),  # 0 while it is being backfilled from history
)

BucketKey = tuple[str, int, int, str]  # metric, resolution, bucket_start, dim


def _least(conn: Connection, a: Any, b: Any) -> Any:
    pick = func.least if conn.dialect.name == "postgresql" else func.min
    return pick(func.coalesce(a, b), func.coalesce(b, a))


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
    pick = func.greatest if conn.dialect.name == "postgresql" else func.max
    return pick(func.coalesce(a, b), func.coalesce(b, a))


def upsert_buckets(conn: Connection, generation: int, rows: list[dict[str, Any]]) -> None:
    """Add rows into their buckets; sketches arrive already merged with what was stored."""
    if not rows:
        return
    statement = dialect_insert(conn)(buckets)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["generation", "metric", "resolution", "bucket_start", "dim"],
        set_={
            "n": buckets.c.n + new.n,
            "total": buckets.c.total + new.total,
            "vmin": _least(conn, buckets.c.vmin, new.vmin),
            "vmax": _greatest(conn, buckets.c.vmax, new.vmax),
            "sketch": new.sketch,
        },
    )
    conn.execute(statement, [{"generation": generation, **row} for row in rows])


def stored_sketches(
    conn: Connection, generation: int, keys: Iterable[BucketKey]
) -> dict[BucketKey, bytes]:
    wanted = list(keys)
    found: dict[BucketKey, bytes] = {}
    for start in range(0, len(wanted), 300):
        chunk = wanted[start : start + 300]
        query = select(
            buckets.c.metric, buckets.c.resolution, buckets.c.bucket_start, buckets.c.dim,
            buckets.c.sketch,
        ).where(
            buckets.c.generation == generation,
            tuple_(buckets.c.metric, buckets.c.resolution, buckets.c.bucket_start, buckets.c.dim)
            .in_(chunk),
        )  # fmt: skip
        for row in conn.execute(query):
            if row.sketch is not None:
                found[(row.metric, row.resolution, row.bucket_start, row.dim)] = row.sketch
    return found


def take_spans(
    conn: Connection, generation: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], float]:
    """Open spans for (metric, key) pairs, deleted as they are taken (their end arrived)."""
    wanted = list(keys)
    found: dict[tuple[str, str], float] = {}
    for start in range(0, len(wanted), 300):
        chunk = wanted[start : start + 300]
        match = and_(
            spans.c.generation == generation,
            tuple_(spans.c.metric, spans.c.span_key).in_(chunk),
        )
        rows = conn.execute(
            select(spans.c.metric, spans.c.span_key, spans.c.started_at).where(match)
        )
        found.update({(r.metric, r.span_key): float(r.started_at) for r in rows})
        conn.execute(delete(spans).where(match))
    return found


def open_spans(conn: Connection, generation: int, started: dict[tuple[str, str], float]) -> None:
    if not started:
        return
    statement = dialect_insert(conn)(spans)
    statement = statement.on_conflict_do_update(
        index_elements=["generation", "metric", "span_key"],
        set_={"started_at": statement.excluded.started_at},
    )
    conn.execute(
        statement,
        [
            {"generation": generation, "metric": m, "span_key": k, "started_at": t}
            for (m, k), t in started.items()
        ],
    )


def add_counters(
    conn: Connection, generation: int, added: dict[str, int], maxima: dict[str, int]
) -> None:
    statement = dialect_insert(conn)(counters)
    if added:
        adding = statement.on_conflict_do_update(
            index_elements=["generation", "name"],
            set_={"value": counters.c.value + statement.excluded.value},
        )
        conn.execute(
            adding, [{"generation": generation, "name": k, "value": v} for k, v in added.items()]
        )
    if maxima:
        raising = statement.on_conflict_do_update(
            index_elements=["generation", "name"],
            set_={"value": _greatest(conn, counters.c.value, statement.excluded.value)},
        )
        conn.execute(
            raising, [{"generation": generation, "name": k, "value": v} for k, v in maxima.items()]
        )


def read_counters(conn: Connection, generation: int) -> dict[str, int]:
    rows = conn.execute(
        select(counters.c.name, counters.c.value).where(counters.c.generation == generation)
    )
    return {row.name: int(row.value) for row in rows}


def drop_generation(conn: Connection, generation: int) -> None:
    for table in (buckets, spans, counters, definitions):
        conn.execute(delete(table).where(table.c.generation == generation))


def stored_definitions(conn: Connection, generation: int) -> dict[str, tuple[str, bool]]:
    rows = conn.execute(
        select(definitions.c.metric, definitions.c.fingerprint, definitions.c.live).where(
            definitions.c.generation == generation
        )
    )
    return {row.metric: (row.fingerprint, bool(row.live)) for row in rows}


def define(conn: Connection, generation: int, metric: str, fingerprint: str, live: bool) -> None:
    statement = dialect_insert(conn)(definitions).values(
        generation=generation, metric=metric, fingerprint=fingerprint, live=int(live)
    )
    statement = statement.on_conflict_do_update(
        index_elements=["generation", "metric"],
        set_={"fingerprint": statement.excluded.fingerprint, "live": statement.excluded.live},
    )
    conn.execute(statement)


def drop_metric(conn: Connection, generation: int, metric: str) -> None:
    """Forget one metric's figures (it was removed, or its definition changed)."""
    for table in (buckets, spans, definitions):
        conn.execute(
            delete(table).where(table.c.generation == generation, table.c.metric == metric)
        )
    names = [
        name
        for name in read_counters(conn, generation)
        if name.endswith(f":{metric}") or f":{metric}:" in name
    ]
    if names:
        conn.execute(
            delete(counters).where(counters.c.generation == generation, counters.c.name.in_(names))
        )
