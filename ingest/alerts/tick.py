"""One evaluation round: every rule evaluated at the round's moment, and, when its last
evaluation lies more than a minute back (the ingest caught up on a backlog, or this loop
was held up), first at every minute in between, so that the history holds what happened
there; every state change stored with its history row, and the notifications the round
causes queued, all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
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
STEP = timedelta(minutes=1)  # the grid of catch-up evaluations: buckets change by the minute
MAX_CATCH_UP = 1440  # at most the last day of missed minutes per rule and round


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
    evaluated: int  # evaluations, the catch-up ones included
    transitions: int
    notified: int  # alerts whose receivers were told something new


def run_tick(engine: Engine, store: EventStore, rules: RuleSet, now: datetime) -> TickReport:
    """Evaluate (queries outside the write transaction), then apply in one transaction."""
    moment = evaluation_moment(store, engine, now, rules.max_lag_s)
    with engine.connect() as conn:
        before = st.load_states(conn)
    found: dict[str, list[Evaluation]] = {}
    if moment.at is not None:
        for rule in rules.rules:
            steps = catch_up_steps(before.get(rule.name), rule, moment)
            if steps:
                found[rule.name] = [
                    observe(rule, rules.metrics, at, rules.zone, stale=stale) for at, stale in steps
                ]
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            lock_group(conn, LOCK)
            return _Round(conn, rules, moment, now).apply(found)


def catch_up_steps(
    stored: AlertRecord | None, rule: AlertRule, moment: Moment
) -> list[tuple[datetime, bool]]:
    """When to evaluate ``rule`` this round, oldest first, each with whether it is stale:
    every minute after its last evaluation (stale: looked at after the fact, it notifies
    nobody; at most the last ``MAX_CATCH_UP``), then the round's moment. Nothing when the
    rule was evaluated at or after the moment already; only the moment for a rule that was
    never evaluated or now watches another series."""
    if moment.at is None or _known(stored, rule, moment.at, moment.stale):
        return []
    last = None if stored is None or stored.identity != rule.identity() else stored.status
    steps = [(moment.at, moment.stale)]
    if last is None or last.evaluated_at is None:
        return steps
    at = moment.at - STEP
    while at > last.evaluated_at and len(steps) <= MAX_CATCH_UP:
        steps.append((at, True))
        at -= STEP
    steps.reverse()
    return steps


def _known(stored: AlertRecord | None, rule: AlertRule, at: datetime, stale: bool) -> bool:
    """An evaluation older than the stored one (another evaluator got there first), or a
    stale one no later than it, teaches nothing new: it must not move the state back."""
    if stored is None or stored.identity != rule.identity():
        return False
    last = stored.status.evaluated_at
    if last is None:
        return False
    return at <= last if stale else at < last


class _Round:
    def __init__(self, conn: Connection, rules: RuleSet, moment: Moment, now: datetime) -> None:
        self.conn, self.rules, self.moment, self.now = conn, rules, moment, now
        self.at = moment.at or now
        self.transitions = 0

    def apply(self, found: dict[str, list[Evaluation]]) -> TickReport:
        stored = st.load_states(self.conn)
        silences = active_silences(self.conn, self.now)
        records: list[tuple[AlertRecord, bool]] = []  # record, already in the table
        for rule in self.rules.rules:
            old = stored.pop(rule.name, None)
            record = self._evaluate(rule, old, found.get(rule.name, []), silences)
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
        evaluated = sum(len(evaluations) for evaluations in found.values())
        return TickReport(self.moment, evaluated, self.transitions, len(told))

    def _evaluate(
        self,
        rule: AlertRule,
        old: AlertRecord | None,
        evaluations: list[Evaluation],
        silences: list[Silence],
    ) -> AlertRecord:
        labels, identity = rule.all_labels, rule.identity()
        limit = rule.parsed().threshold
        threshold: Any = list(limit) if isinstance(limit, tuple) else limit
        if old is None:
            old = AlertRecord(AlertStatus(rule.name), identity, labels, threshold, "")
        elif old.identity != identity:  # another series now: its alert ends, a new one starts
            old = replace(self._reset(old, "the rule changed"), identity=identity)
        silenced = is_silenced(silences, rule.name, labels, self.now)
        status, seen = old.status, None
        for ev in evaluations:  # oldest first; each change is a history row at its time
            if _known(old, rule, ev.at, ev.stale):
                continue  # another evaluator got this far already
            before, seen = status, ev
            status = advance(
                before,
                ev,
                pending_for=rule.for_,
                keep_firing_for=rule.keep_firing_for,
                no_data=rule.no_data,
            )
            if status.state != before.state:
                changed = replace(status, silenced=silenced)
                record = AlertRecord(changed, identity, labels, threshold, old.summary)
                st.record_transition(self.conn, before, record, self.now)
                self.transitions += 1
        status = replace(status, stale=self.moment.stale, silenced=silenced)
        summary = old.summary
        if seen is not None or not summary:
            context = rule.context(
                status.value,
                current=getattr(seen, "current", None),
                base=getattr(seen, "base", None),
            )
            summary = render(rule.summary, context)
        return AlertRecord(status, identity, labels, threshold, summary)

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
