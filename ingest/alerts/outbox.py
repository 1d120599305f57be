"""Deciding what to notify: group alerts by ``group_by`` labels, notify a group when one of
its alerts starts firing or resolves, and repeat a firing group every ``repeat_interval``.

Notifications go to an outbox in the same transaction as the state changes that caused
them, with one pending delivery per sink; the senders deliver them (sender.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ingest.alerts.rules import SEVERITY_RANK
from ingest.alerts.section import NotifySettings
from ingest.alerts.storage import AlertRecord
from ingest.alerts.tables import deliveries, groups, outbox


def severity(record: AlertRecord) -> str:
    return record.labels.get("severity", "warning")


def entry(record: AlertRecord, resolved_at: datetime | None) -> dict[str, Any]:
    """One alert in a notification (the webhook's JSON)."""
    s = record.status
    return {
        "status": "resolved" if resolved_at is not None else "firing",
        "rule": s.rule,
        "labels": record.labels,
        "state": s.state,
        "value": s.value,
        "threshold": record.threshold,
        "summary": record.summary,
        "severity": severity(record),
        "startsAt": _iso(s.active_since or s.fired_at),
        "endsAt": _iso(resolved_at),
        "evaluatedAt": _iso(s.evaluated_at),
        "silenced": s.silenced,
    }


def group_key(labels: dict[str, str], group_by: list[str]) -> str:
    return ",".join(f"{name}={labels.get(name, '')}" for name in group_by)


def plan(
    conn: Connection,
    views: list[AlertRecord],
    notify: NotifySettings,
    sinks: dict[str, str],
    now: datetime,
) -> dict[str, str]:
    """Queue the notifications due now; return the rules whose receivers now know a new
    ``notified`` value (firing | resolved). ``sinks``: name -> min_severity."""
    grouped: dict[str, list[AlertRecord]] = {}
    for view in views:
        grouped.setdefault(group_key(view.labels, notify.group_by), []).append(view)
    told: dict[str, str] = {}
    last_sent = {row.group_key: row.last_sent_at for row in conn.execute(select(groups))}
    for key, members in sorted(grouped.items()):
        firing = [v for v in members if v.status.active and not v.status.silenced]
        new = [v for v in firing if v.status.notified != "firing"]
        resolved = [v for v in members if not v.status.active and v.status.notified == "firing"]
        previous = last_sent.get(key)
        repeat = previous is None or now - previous >= timedelta(seconds=notify.repeat_interval)
        if not (new or resolved or (firing and repeat)):
            continue
        entries = [entry(v, None) for v in firing] + [entry(v, now) for v in resolved]
        severities = [severity(v) for v in firing + resolved]
        _queue(conn, key, members[0].labels, notify.group_by, entries, severities, sinks, now)
        _touch_group(conn, key, now, exists=previous is not None)
        told.update({v.status.rule: "firing" for v in firing})
        told.update({v.status.rule: "resolved" for v in resolved})
    return told


def _queue(
    conn: Connection,
    key: str,
    labels: dict[str, str],
    group_by: list[str],
    entries: list[dict[str, Any]],
    severities: list[str],
    sinks: dict[str, str],
    now: datetime,
) -> None:
    status = "firing" if any(e["status"] == "firing" for e in entries) else "resolved"
    payload = {
        "receiver": "ledgerlens",
        "status": status,
        "group_key": key,
        "group_labels": {name: labels.get(name, "") for name in group_by},
        "alerts": entries,
        "sent_for": _iso(now),
    }
    result = conn.execute(
        insert(outbox).values(group_key=key, status=status, payload=payload, created_at=now)
    )
    outbox_id = result.inserted_primary_key[0]  # type: ignore[index]
    top = max(SEVERITY_RANK[s] for s in severities)
    wanted = [name for name, least in sinks.items() if SEVERITY_RANK[least] <= top]
    if wanted:
        conn.execute(
            insert(deliveries),
            [
                {
                    "outbox_id": outbox_id,
                    "sink": name,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for name in wanted
            ],
        )


def _touch_group(conn: Connection, key: str, now: datetime, *, exists: bool) -> None:
    if exists:
        conn.execute(update(groups).where(groups.c.group_key == key).values(last_sent_at=now))
    else:
        conn.execute(insert(groups).values(group_key=key, last_sent_at=now))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
