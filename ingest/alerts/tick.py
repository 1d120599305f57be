"""One evaluation round: every rule evaluated once, every state change stored once with its
history row, and the notifications it causes queued, all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from domain.eventstore import EventStore
from domain.eventstore.engine import WRITE
from ingest.alerts import storage as st
from ingest.alerts.evaluator import NORMAL, AlertStatus, Evaluation, advance
from ingest.alerts.freshness import Moment, evaluation_moment
from ingest.alerts.observe import MetricSource, observe
from ingest.alerts.outbox import plan
from ingest.alerts.rules import AlertRule
from ingest.alerts.section import NotifySettings
from ingest.alerts.sender import drop_unknown_sinks
from ingest.alerts.silences import Silence, active_silences, is_silenced
from ingest.alerts.storage import AlertRecord
from ingest.alerts.templates import render
from ingest.redelivery import lock_group

LOCK = "ledgerlens-alerts"  # one evaluator at a time, even with two ingest processes


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[AlertRule, ...]
    zone: str
    notify: NotifySettings
    metrics: MetricSource
    max_lag_s: float
    sinks: dict[str, str]  # running sinks: name -> min_severity


@dataclass(frozen=True)
class TickReport:
    moment: Moment
    evaluated: int
    transitions: int
    notified: int  # alerts whose receivers were told something new


def run_tick(engine: Engine, store: EventStore, rules: RuleSet, now: datetime) -> TickReport:
    """Evaluate (queries outside the write transaction), then apply in one transaction."""
    moment = evaluation_moment(store, engine, now, rules.max_lag_s)
    with engine.connect() as conn:
        before = st.load_states(conn)
    found: dict[str, Evaluation] = {}
    if moment.at is not None:
        for rule in rules.rules:
            if not _known(before.get(rule.name), rule, moment):
                found[rule.name] = observe(
                    rule, rules.metrics, moment.at, rules.zone, stale=moment.stale
                )
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            lock_group(conn, LOCK)
            return _Round(conn, rules, moment, now).apply(found)


def _known(stored: AlertRecord | None, rule: AlertRule, moment: Moment) -> bool:
    """An evaluation older than the stored one (another evaluator got there first), or a
    stale one no later than it, teaches nothing new: it must not move the state back."""
    if stored is None or stored.identity != rule.identity() or moment.at is None:
        return False
    last = stored.status.evaluated_at
    if last is None:
        return False
    return moment.at <= last if moment.stale else moment.at < last


class _Round:
    def __init__(self, conn: Connection, rules: RuleSet, moment: Moment, now: datetime) -> None:
        self.conn, self.rules, self.moment, self.now = conn, rules, moment, now
        self.at = moment.at or now
        self.transitions = 0

    def apply(self, found: dict[str, Evaluation]) -> TickReport:
        stored = st.load_states(self.conn)
        silences = active_silences(self.conn, self.now)
        records: list[tuple[AlertRecord, bool]] = []  # record, already in the table
        for rule in self.rules.rules:
            old = stored.pop(rule.name, None)
            record = self._evaluate(rule, old, found.get(rule.name), silences)
            records.append((record, old is not None))
        for old in stored.values():  # rules no longer configured
            removed = self._reset(old, "the rule was removed")
            records.append((replace(removed, summary=f"{old.status.rule}: rule removed"), True))
        told: dict[str, str] = {}
        if not self.moment.stale:
            told = plan(
                self.conn, [r for r, _ in records], self.rules.notify, self.rules.sinks, self.now
            )
        configured = {rule.name for rule in self.rules.rules}
        for record, exists in records:
            status = record.status
            status = replace(status, notified=told.get(status.rule, status.notified))
            if status.rule not in configured and status.notified != "firing":
                st.delete_state(self.conn, status.rule)  # receivers know it ended, or never knew
            else:
                st.save_state(self.conn, replace(record, status=status), exists=exists)
        drop_unknown_sinks(self.conn, set(self.rules.sinks))
        return TickReport(self.moment, len(found), self.transitions, len(told))

    def _evaluate(
        self,
        rule: AlertRule,
        old: AlertRecord | None,
        ev: Evaluation | None,
        silences: list[Silence],
    ) -> AlertRecord:
        labels, identity = rule.all_labels, rule.identity()
        limit = rule.parsed().threshold
        threshold: Any = list(limit) if isinstance(limit, tuple) else limit
        if old is None:
            old = AlertRecord(AlertStatus(rule.name), identity, labels, threshold, "")
        elif old.identity != identity:  # another series now: its alert ends, a new one starts
            old = replace(self._reset(old, "the rule changed"), identity=identity)
        before = old.status
        status = before
        if ev is not None and not _known(old, rule, self.moment):
            status = advance(
                before,
                ev,
                pending_for=rule.for_,
                keep_firing_for=rule.keep_firing_for,
                no_data=rule.no_data,
            )
        silenced = is_silenced(silences, rule.name, labels, self.now)
        status = replace(status, stale=self.moment.stale, silenced=silenced)
        summary = old.summary
        if ev is not None or not summary:
            context = rule.context(
                status.value, current=getattr(ev, "current", None), base=getattr(ev, "base", None)
            )
            summary = render(rule.summary, context)
        record = AlertRecord(status, identity, labels, threshold, summary)
        if status.state != before.state:
            st.record_transition(self.conn, before, record, self.now)
            self.transitions += 1
        return record

    def _reset(self, old: AlertRecord, why: str) -> AlertRecord:
        """End an alert whose rule changed series or was removed."""
        s = old.status
        if s.state == NORMAL and not s.active:
            return old
        status = AlertStatus(
            s.rule,
            since=self.at,
            evaluated_at=self.at,
            detail=why,
            fired_at=s.fired_at,
            notified=s.notified,
            silenced=s.silenced,
        )
        record = replace(old, status=status)
        st.record_transition(self.conn, s, record, self.now)
        self.transitions += 1
        return record
