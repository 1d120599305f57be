"""`ingest status`: where each group stands against the head of the event store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from domain.clock import utc_now
from domain.eventstore import Checkpoint, EventStore
from ingest.checkpoints import load_checkpoint
from ingest.dead_letters import SKIPPED, count_parked
from ingest.metrics.storage import read_counters
from ingest.metrics.timegrid import from_epoch
from ingest.status import is_alive, read_status_rows

LAG_COUNT_CAP = 1_000_000


def group_report(
    store: EventStore, engine: Engine, now: datetime | None = None
) -> list[dict[str, Any]]:
    now = now or utc_now()
    head = store.head()
    report: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for row in read_status_rows(conn):
            name = row["group_name"]
            checkpoint = load_checkpoint(conn, name)
            lag_events = _lag_events(store, checkpoint, head)
            pending = store.read_all(checkpoint, 1)
            lag_seconds = (now - pending[0].recorded_at).total_seconds() if pending else 0.0
            state = row["state"] if is_alive(row, now) else "stopped"
            report.append(
                {
                    "group": name,
                    "state": state,
                    "critical": bool(row["critical"]),
                    "error_policy": row["error_policy"],
                    "generation": row["generation"],
                    "position": checkpoint.position,
                    "head": head.position,
                    "lag_events": lag_events,
                    "lag_seconds": round(max(lag_seconds, 0.0), 3),
                    "events_per_s": row["events_per_s"],
                    "events_total": row["events_total"],
                    "skipped": count_parked(conn, name, SKIPPED),
                    "dead_letters": count_parked(conn, name),
                    "last_error": row["last_error"],
                    "last_error_at": _iso(row["last_error_at"]),
                    "replay": row["replay"],
                    "backfills": row.get("backfills") or [],
                    "metrics": metric_health(conn, row["generation"]) if name == "kpis" else None,
                    "heartbeat_at": _iso(row["heartbeat_at"]),
                }
            )
    return report


def metric_health(conn: Connection, generation: int) -> dict[str, Any]:
    """What the metrics could not read (per metric and field), late and unknown events."""
    counters = read_counters(conn, generation)
    watermark = counters.get("watermark")
    return {
        "watermark": None if watermark is None else from_epoch(watermark).isoformat(),
        "late_events": counters.get("late_events", 0),
        "unknown_event_types": counters.get("unknown_event_types", 0),
        "field_problems": {
            name: value
            for name, value in sorted(counters.items())
            if name.split(":", 1)[0] in {"missing", "invalid", "unmatched_end"}
        },
    }


def _lag_events(store: EventStore, checkpoint: Checkpoint, head: Checkpoint) -> int:
    if checkpoint >= head:
        return 0
    engine = getattr(store, "engine", None)
    if engine is None:  # an in-memory store: count by reading
        return len(store.read_all(checkpoint, LAG_COUNT_CAP))
    query = text(
        "SELECT count(*) FROM (SELECT 1 FROM events WHERE (tx_id, position) > (:tx, :pos) "
        "AND (tx_id, position) <= (:htx, :hpos) LIMIT :cap) AS pending"
    )
    params = {
        "tx": checkpoint.tx_id,
        "pos": checkpoint.position,
        "htx": head.tx_id,
        "hpos": head.position,
        "cap": LAG_COUNT_CAP,
    }
    with engine.connect() as conn:
        return int(conn.execute(query, params).scalar_one())


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def format_report(report: list[dict[str, Any]]) -> str:
    columns = [
        ("group", "group"), ("state", "state"), ("position", "position"), ("head", "head"),
        ("lag_events", "lag"), ("lag_seconds", "lag s"), ("events_per_s", "ev/s"),
        ("dead_letters", "dead"), ("skipped", "skipped"), ("last_error", "last error"),
    ]  # fmt: skip
    rows = [[_cell(item[key]) for key, _ in columns] for item in report]
    for item, row in zip(report, rows, strict=True):
        if item["replay"]:
            row[1] += f" (replay g{item['replay']['generation']} @ {item['replay']['position']})"
        for job in item.get("backfills") or []:
            row[1] += f" (backfill {job['part']} @ {job['position']}/{job['live_position']})"
    widths = [max(len(title), *(len(r[i]) for r in rows)) for i, (_, title) in enumerate(columns)]
    lines = ["  ".join(title.ljust(w) for (_, title), w in zip(columns, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    for item in report:
        health = item.get("metrics")
        if health and (health["field_problems"] or health["late_events"]
                       or health["unknown_event_types"]):  # fmt: skip
            problems = ", ".join(f"{k}={v}" for k, v in health["field_problems"].items())
            lines.append(
                f"{item['group']} metrics: late events {health['late_events']}, unknown event "
                f"types {health['unknown_event_types']}" + (f", {problems}" if problems else "")
            )
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    text_value = str(value)
    return text_value if len(text_value) <= 60 else text_value[:57] + "..."
