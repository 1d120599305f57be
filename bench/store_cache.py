"""The cache of generated stores: a JSON note beside a SQLite file, or a ``bench_meta`` row
in the store's PostgreSQL schema, written once the store is complete."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.databases import pg_admin, pg_schema_url, sqlite_path


@dataclass(frozen=True)
class StoreInfo:
    url: str
    name: str
    events: int
    first: str
    last: str
    generated_in_s: float = 0.0  # 0: copied, or taken from the cache
    generated_events_per_s: float = 0.0


def meta_path(name: str) -> Path:
    return sqlite_path(name).with_suffix(".json")


def remember(backend: str, name: str, info: StoreInfo) -> None:
    document = json.dumps(asdict(info))
    if backend == "sqlite":
        meta_path(name).write_text(document)
        return
    with pg_admin() as conn:
        conn.execute(f'CREATE TABLE "{name}".bench_meta (info text NOT NULL)')
        conn.execute(f'INSERT INTO "{name}".bench_meta VALUES (%s)', (document,))


def cached(backend: str, name: str) -> StoreInfo | None:
    if backend == "sqlite":
        meta = meta_path(name)
        if not (meta.exists() and sqlite_path(name).exists()):
            return None
        return _cache_hit(StoreInfo(**json.loads(meta.read_text())))
    with pg_admin() as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'bench_meta'", (name,)
        ).fetchone()
        if exists is None:
            return None
        row = conn.execute(f'SELECT info FROM "{name}".bench_meta').fetchone()
    if row is None:
        return None
    info = _cache_hit(StoreInfo(**json.loads(row[0])))
    return StoreInfo(**{**asdict(info), "url": pg_schema_url(name)})


def _cache_hit(info: StoreInfo) -> StoreInfo:
    print(f"  (cached store {info.name}: {info.events:,} events)", flush=True)
    return info
