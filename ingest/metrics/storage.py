"""Read-model tables of the metrics and their exactly-once upserts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    delete,
    func,
    select,
)

from domain.eventstore.engine import dialect_insert
from ingest.bulk import param_mark, upsert_rows
from ingest.metrics.timegrid import MINUTE

metadata = MetaData()


def _bucket_table(name: str) -> Table:
    return Table(
        name,
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
        sqlite_with_rowid=False,
    )


# Minute buckets, and the hour and business-day roll-ups in a table of their own: a 30-day
# chart reads hour rows, which among the minute rows of every metric were spread over
# thousands of pages (PostgreSQL, 1M events: ~24k hour rows on ~12.8k heap pages).
buckets = _bucket_table("rm_metric_buckets")
rollups = _bucket_table("rm_metric_rollups")


def table_for(resolution: int) -> Table:
    """Where buckets of ``resolution`` live: minutes in ``buckets``, the rest in ``rollups``."""
    return buckets if resolution == MINUTE else rollups


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
    Column("name", String(300), primary_key=True),  # late_events, watermark, recorded, missing:M:F
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


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
    pick = func.greatest if conn.dialect.name == "postgresql" else func.max
    return pick(func.coalesce(a, b), func.coalesce(b, a))


BucketRow = tuple[str, int, int, str, int, int, int | None, int | None, bytes | None]
"""metric, resolution, bucket_start, dim, n, total, vmin, vmax, sketch"""

_BUCKET_COLUMNS = (
    "generation", "metric", "resolution", "bucket_start", "dim", "n", "total", "vmin", "vmax",
    "sketch",
)  # fmt: skip
_BUCKET_KEY = _BUCKET_COLUMNS[:5]
_BUCKET_MERGE = (
    "n = t.n + excluded.n, total = t.total + excluded.total, "
    "vmin = {least}(coalesce(t.vmin, excluded.vmin), coalesce(excluded.vmin, t.vmin)), "
    "vmax = {greatest}(coalesce(t.vmax, excluded.vmax), coalesce(excluded.vmax, t.vmax)), "
    "sketch = excluded.sketch"
)


StoredBucket = tuple[int, str, int, int, str, int, int, int | None, int | None, bytes | None]
"""generation, then a ``BucketRow``: a row of ``buckets`` or ``rollups`` as stored"""


def upsert_buckets(conn: Connection, generation: int, rows: Sequence[BucketRow]) -> None:
    """Add rows into their buckets (one row per key); sketches arrive already merged with
    what was stored."""
    upsert_stored_buckets(
        conn,
        [(generation, *row) for row in rows if row[1] == MINUTE],
        [(generation, *row) for row in rows if row[1] != MINUTE],
    )


def upsert_stored_buckets(
    conn: Connection, minutes: Sequence[StoredBucket], coarser: Sequence[StoredBucket]
) -> None:
    """``upsert_buckets`` of rows already split by table and led by their generation (the
    replay's path: no second copy of every row)."""
    postgres = conn.dialect.name == "postgresql"
    merge = _BUCKET_MERGE.format(
        least="least" if postgres else "min", greatest="greatest" if postgres else "max"
    )
    # Roll-up rows in key order: on PostgreSQL the heap then keeps a metric's hours of one
    # batch together, and a 30-day chart reads a few rows per page instead of one.
    for table, chosen in ((buckets, minutes), (rollups, sorted(coarser))):
        upsert_rows(conn, table.name, _BUCKET_COLUMNS, chosen, key=_BUCKET_KEY, merge=merge)


def move_rollups(conn: Connection, generation: int, metrics: Iterable[str]) -> int:
    """Move hour and day rows that an older version kept in ``rm_metric_buckets`` into
    ``rm_metric_rollups`` (once; afterwards one index probe per metric finds none).
    Returns how many rows moved."""
    mark = param_mark(conn)
    moved = 0
    for metric in sorted(metrics):
        where = f"generation = {mark} AND metric = {mark} AND resolution > {MINUTE}"
        if (
            conn.exec_driver_sql(
                f"SELECT 1 FROM {buckets.name} WHERE {where} LIMIT 1", (generation, metric)
            ).first()
            is None
        ):
            continue
        columns = ", ".join(_BUCKET_COLUMNS)
        moved += conn.exec_driver_sql(
            f"INSERT INTO {rollups.name} ({columns}) SELECT {columns} FROM {buckets.name} "
            f"WHERE {where}",
            (generation, metric),
        ).rowcount
        conn.exec_driver_sql(f"DELETE FROM {buckets.name} WHERE {where}", (generation, metric))
    return moved


def latest_minutes(conn: Connection, generation: int, metrics: Iterable[str]) -> dict[str, int]:
    """The start of each metric's latest stored minute bucket (metrics with none are left
    out); one index seek per metric. (Spelled ``ORDER BY … DESC LIMIT 1``, not ``max()``:
    PostgreSQL without statistics on the table, as when autovacuum is off, answered
    ``max()`` by reading every minute row of the metric: 17-27 ms a metric per batch on a
    1M-event read model, growing with history.)"""
    names = sorted(metrics)
    mark = param_mark(conn)
    one = (
        f"SELECT {mark}, (SELECT bucket_start FROM rm_metric_buckets WHERE "
        f"generation = {mark} AND metric = {mark} AND resolution = {MINUTE} "
        f"ORDER BY bucket_start DESC LIMIT 1)"
    )
    sql = " UNION ALL ".join([one] * len(names))
    params = tuple(p for name in names for p in (name, generation, name))
    rows = conn.exec_driver_sql(sql, params).all()
    return {str(name): int(start) for name, start in rows if start is not None}


def _select_keyed(
    conn: Connection, table: str, columns: Sequence[str], keys: Sequence[tuple[Any, ...]],
    generation: int,
) -> list[Any]:  # fmt: skip
    """``columns`` of the rows of ``table`` in ``generation`` whose leading columns match one
    of ``keys`` (each key, with the generation, a whole primary key): one primary-key seek
    per key, whatever the table's size. SQLite: a join with a VALUES list (it answers a
    row-value ``IN`` list by scanning the whole generation). PostgreSQL: a ``LATERAL``
    lookup per VALUES row, ``LIMIT 1`` so that it is not flattened into a join; without
    statistics on the table (autovacuum off) it planned the join as a hash join over the
    whole generation: 200 ms for 200 keys on a 1M-event read model instead of 0.7 ms."""
    if not keys:
        return []
    postgres = conn.dialect.name == "postgresql"
    mark = param_mark(conn)
    width = len(keys[0])
    match = " AND ".join(f"t.{c} = v.column{i}" for i, c in enumerate(columns[:width], start=1))
    row = "(" + ", ".join([mark] * width) + ")"
    chosen = ", ".join("t." + c for c in columns)
    found: list[Any] = []
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        values = f"(VALUES {', '.join([row] * len(chunk))}) AS v"
        sql = (
            f"SELECT {chosen} FROM {values} CROSS JOIN LATERAL (SELECT {chosen} FROM {table} "
            f"AS t WHERE t.generation = {mark} AND {match} LIMIT 1) AS t"
            if postgres
            else f"SELECT {chosen} FROM {values} JOIN {table} AS t ON t.generation = {mark} "
            f"AND {match}"
        )
        params = (*(value for key in chunk for value in key), generation)
        found.extend(conn.exec_driver_sql(sql, params).all())
    return found


def stored_sketches(
    conn: Connection, generation: int, keys: Iterable[BucketKey]
) -> dict[BucketKey, bytes]:
    columns = ("metric", "resolution", "bucket_start", "dim", "sketch")
    wanted = list(keys)
    rows = [
        row
        for table, chosen in (
            (buckets, [k for k in wanted if k[1] == MINUTE]),
            (rollups, [k for k in wanted if k[1] != MINUTE]),
        )
        for row in _select_keyed(conn, table.name, columns, chosen, generation)
    ]
    return {(r[0], int(r[1]), int(r[2]), r[3]): bytes(r[4]) for r in rows if r[4] is not None}


def take_spans(
    conn: Connection, generation: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], float]:
    """Open spans for (metric, key) pairs, deleted as they are taken (their end arrived)."""
    wanted = list(keys)
    columns = ("metric", "span_key", "started_at")
    rows = _select_keyed(conn, "rm_metric_spans", columns, wanted, generation)
    found = {(r[0], r[1]): float(r[2]) for r in rows}
    if found:
        mark = param_mark(conn)
        conn.exec_driver_sql(
            f"DELETE FROM rm_metric_spans WHERE generation = {mark} AND metric = {mark} "
            f"AND span_key = {mark}",
            [(generation, metric, key) for metric, key in found],
        )
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
    for table in (buckets, rollups, spans, counters, definitions):
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
    for table in (buckets, rollups, spans, definitions):
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
