"""The alerts' read-model tables (``ingest/alerts/tables.py``) as the dashboard shows them:
every rule's current state (firing first), its history as periods, the running silences,
the worst state per metric (tile colours) and the running ingest's config status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, inspect, or_, select

from dashboard.loaders.marks import Period
from ingest.alerts.config_status import read_config_status
from ingest.alerts.evaluator import ERROR, FIRING, NO_DATA, NORMAL, PENDING, RECOVERING
from ingest.alerts.rules import SEVERITY_RANK, AlertRule
from ingest.alerts.silences import list_silences
from ingest.alerts.storage import AlertRecord, load_states
from ingest.alerts.tables import config_status, history, silences, states

NOT_EVALUATED = "not evaluated"
ORDER = {FIRING: 0, RECOVERING: 1, PENDING: 2, ERROR: 3, NO_DATA: 4, NORMAL: 5, NOT_EVALUATED: 6}
ACTIVE = (FIRING, RECOVERING)  # a firing alert stays active while it recovers
TILE_STATE = {FIRING: "firing", RECOVERING: "firing", PENDING: "pending", ERROR: "unknown",
              NO_DATA: "ok", NORMAL: "ok"}  # fmt: skip
TILE_RANK = {"firing": 3, "pending": 2, "unknown": 1, "ok": 0}
STATE_COLUMNS = ["rule", "state", "severity", "metric", "dim", "window", "condition", "value",
                 "change", "since", "active_since", "evaluated_at", "summary", "silenced",
                 "stale", "detail"]  # fmt: skip
PERIOD_COLUMNS = ["rule", "state", "start", "end"]
HISTORY_LIMIT = 5_000


def has_tables(engine: Engine, *names: str) -> bool:
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
    return all(name in present for name in names or (states.name,))


def current(engine: Engine, rules: tuple[AlertRule, ...]) -> pd.DataFrame:
    """One row per configured rule (and per stored alert of a removed rule), firing first,
    then by severity."""
    stored = _stored(engine)
    rows = [_row(rule, stored.pop(rule.name, None)) for rule in rules]
    for name, record in stored.items():  # removed from the config, still known to receivers
        rows.append({"rule": name, "state": record.status.state, "summary": record.summary,
                     "since": record.status.since, "detail": "no longer configured"})  # fmt: skip
    frame = pd.DataFrame(rows, columns=STATE_COLUMNS)
    frame["_order"] = frame["state"].map(ORDER).fillna(9)
    frame["_severity"] = -frame["severity"].map(SEVERITY_RANK).fillna(-1)
    return (
        frame.sort_values(["_order", "_severity", "rule"])
        .drop(columns=["_order", "_severity"])
        .reset_index(drop=True)
    )


def _row(rule: AlertRule, record: AlertRecord | None) -> dict[str, Any]:
    condition = rule.parsed()
    row: dict[str, Any] = {
        "rule": rule.name, "state": NOT_EVALUATED, "severity": rule.severity,
        "metric": rule.metric, "dim": rule.dim, "window": rule.window,
        "condition": condition.describe(), "change": condition.is_change, "summary": "",
        "silenced": False, "stale": False, "detail": "",
    }  # fmt: skip
    if record is not None:
        status = record.status
        row.update(state=status.state, value=status.value, since=status.since,
                   active_since=status.active_since, evaluated_at=status.evaluated_at,
                   summary=record.summary, silenced=status.silenced, stale=status.stale,
                   detail=status.detail)  # fmt: skip
    return row


def _stored(engine: Engine) -> dict[str, AlertRecord]:
    if not has_tables(engine):
        return {}
    with engine.connect() as conn:
        return dict(load_states(conn))


def transitions(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """State changes in [start, end), plus each rule's last change before ``start`` (the
    state it was in when the range began), oldest first."""
    if not has_tables(engine, history.name):
        return pd.DataFrame(columns=["id", "rule", "from_state", "to_state", "value", "at"])
    before = select(func.max(history.c.id)).where(history.c.at < start).group_by(history.c.rule)
    query = (
        select(history.c.id, history.c.rule, history.c.from_state, history.c.to_state,
               history.c.value, history.c.at, history.c.detail)
        .where(or_(history.c.id.in_(before), history.c.at >= start), history.c.at < end)
        .order_by(history.c.id)
        .limit(HISTORY_LIMIT)
    )  # fmt: skip
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    return pd.DataFrame(rows, columns=["id", "rule", "from_state", "to_state", "value", "at",
                                       "detail"])  # fmt: skip


def periods(changes: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """Each rule's time in every state but normal, cut to [start, end); ``end`` is NaT
    while the state lasts."""
    rows: list[dict[str, Any]] = []
    for rule, steps in changes.groupby("rule", sort=True):
        ordered = steps.sort_values("id").to_dict("records")
        for step, after in zip(ordered, [*ordered[1:], None], strict=True):
            if step["to_state"] == NORMAL:
                continue
            stop = after["at"] if after is not None else None
            rows.append({"rule": rule, "state": step["to_state"],
                         "start": max(step["at"], start), "end": stop})  # fmt: skip
    frame = pd.DataFrame(rows, columns=PERIOD_COLUMNS)
    return frame[frame["end"].isna() | (frame["end"] > start)].reset_index(drop=True)


def active_by_metric(
    changes: pd.DataFrame, rules: tuple[AlertRule, ...], start: datetime, end: datetime
) -> dict[str, list[Period]]:
    """Per metric, when the rules on it were firing (or recovering) in [start, end)."""
    metric_of = {rule.name: rule.metric for rule in rules}
    found: dict[str, list[Period]] = {}
    spans = periods(changes, start, end)
    for row in spans[spans["state"].isin(ACTIVE)].itertuples():
        metric = metric_of.get(str(row.rule))
        if metric is not None:
            end_at = None if pd.isna(row.end) else row.end
            found.setdefault(metric, []).append(Period(row.start, end_at, str(row.rule)))
    return found


def tile_states(engine: Engine, rules: tuple[AlertRule, ...]) -> dict[str, str]:
    """The worst state of the rules on each metric: firing, pending, unknown or ok."""
    stored = _stored(engine)
    worst: dict[str, str] = {}
    for rule in rules:
        record = stored.get(rule.name)
        state = TILE_STATE.get(record.status.state, "unknown") if record else "unknown"
        if TILE_RANK[state] >= TILE_RANK[worst.get(rule.metric, "ok")]:
            worst[rule.metric] = state
    return worst


def running_silences(engine: Engine, now: datetime) -> pd.DataFrame:
    columns = ["id", "rule", "matchers", "reason", "created_by", "starts_at", "ends_at"]
    if not has_tables(engine, silences.name):
        return pd.DataFrame(columns=columns)
    with engine.connect() as conn:
        found = list_silences(conn, now)
    return pd.DataFrame([{c: getattr(s, c) for c in columns} for s in found], columns=columns)


def ingest_config(engine: Engine) -> dict[str, Any] | None:
    """When the running ingest last applied its config, and its last refusal (message)."""
    if not has_tables(engine, config_status.name):
        return None
    with engine.connect() as conn:
        return read_config_status(conn)
