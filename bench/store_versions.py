"""Stores with old schema versions, for the upcasting benchmark."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from bench.databases import connect
from bench.store_cache import StoreInfo, cached, remember
from bench.stores import analyze, copy_events, describe, fresh


def versioned_copy(backend: str, source: StoreInfo, name: str, *, to_v1: bool) -> StoreInfo:
    """A copy of ``source`` where every other FundsDeposited / UserRegistered row is
    rewritten: to its v1 shape (``to_v1``) or to itself (same physical churn, no change)."""
    hit = cached(backend, name)
    if hit is not None:
        return hit
    url = fresh(backend, name)
    copy_events(backend, source, name, url, None)
    mark = "?" if backend == "sqlite" else "%s"
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT position, event_type, payload FROM events WHERE event_type IN "
            "('FundsDeposited', 'UserRegistered') AND position % 2 = 0"
        ).fetchall()
        changes = []
        for position, event_type, payload in rows:
            current = payload if isinstance(payload, dict) else orjson.loads(payload)
            new, version = (v1_payload(event_type, current)) if to_v1 else (current, 2)
            changes.append((orjson.dumps(new).decode(), version, position))
        cast = "" if backend == "sqlite" else "::jsonb"
        update = f"UPDATE events SET payload = {mark}{cast}, schema_version = {mark} "
        update += f"WHERE position = {mark}"
        if backend == "sqlite":
            conn.execute("BEGIN")
            conn.executemany(update, changes)
            conn.execute("COMMIT")
        else:
            with conn.cursor() as cur:
                cur.executemany(update, changes)
    analyze(backend, url)
    count, first, last = describe(url)
    info = StoreInfo(url, name, count, first, last)
    remember(backend, name, info)
    return info


def v1_payload(event_type: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The v1 shape: FundsDeposited had a yuan string with separators and ``source``;
    UserRegistered had no referrer."""
    if event_type == "UserRegistered":
        return {k: v for k, v in payload.items() if k != "referrer"}, 1
    return {
        "user_id": payload["user_id"],
        "amount": f"{Decimal(payload['amount']):,.2f}",
        "source": payload["channel"],
    }, 1
