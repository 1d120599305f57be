"""When to evaluate: now, or, while the ingest lags behind the event store, at its watermark.

The ingest is *behind* when its metrics group (``kpis``) either
- has events left to process, the oldest recorded more than ``max_ingest_lag_s`` ago (an
  outage's backlog), or lying, like the metrics watermark, more than ``max_ingest_lag_s``
  back in business time (history recorded just now: a backfill, an import); or
- processed, in the last ``max_ingest_lag_s``, an event recorded more than
  ``max_ingest_lag_s`` after the watermark minute (history processed as fast as it is
  written).
Then windows ending now would be missing events that merely wait to be processed (deposits
look stopped, rates look off), so rules are evaluated at the metrics watermark instead (the
latest event-time minute processed), over windows ending where that minute starts, and
marked stale; stale evaluations never notify. One late event waiting behind a recent
watermark does not make a round stale. See docs/metrics.md, "Stale evaluation".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from domain.eventstore import START, EventStore
from ingest.checkpoints import load_checkpoint
from ingest.metrics.query import active_generation
from ingest.metrics.storage import read_counters
from ingest.metrics.timegrid import from_epoch

METRICS_GROUP = "kpis"
MINUTE_SPAN = timedelta(minutes=1)


@dataclass(frozen=True)
class Moment:
    at: datetime | None  # None: nothing processed yet, nothing to evaluate
    stale: bool
    lag_s: float
    watermark: datetime | None


def evaluation_moment(
    store: EventStore,
    engine: Engine,
    now: datetime,
    max_lag_s: float,
    group: str = METRICS_GROUP,
) -> Moment:
    with engine.connect() as conn:
        checkpoint = load_checkpoint(conn, group)
        counters = read_counters(conn, active_generation(conn, group))
    if checkpoint == START:  # the metrics group has read nothing yet: nothing to evaluate
        return Moment(None, False, 0.0, None)
    mark = counters.get("watermark", 0)
    watermark = from_epoch(mark) if mark else None
    # the metrics are complete up to the end of the watermark minute
    complete = watermark + MINUTE_SPAN if watermark else None
    behind_s = (now - complete).total_seconds() if complete else float("inf")
    lag_s = 0.0
    newest = counters.get("recorded")  # when the newest processed event was recorded
    if complete and newest is not None:
        recorded = from_epoch(newest)
        after_s = (recorded - complete).total_seconds()  # recorded this long after its time
        if (now - recorded).total_seconds() <= max_lag_s and after_s > max_lag_s:
            lag_s = behind_s  # history processed as fast as it is written
    if checkpoint < store.head():
        pending = store.read_all(checkpoint, 1)
        if pending:
            oldest = pending[0]
            lag_s = max(lag_s, (now - oldest.recorded_at).total_seconds())  # an outage's backlog
            history_s = (now - oldest.occurred_at).total_seconds()
            if min(behind_s, history_s) > max_lag_s:  # a backlog of history
                lag_s = max(lag_s, min(behind_s, history_s))
    lag_s = max(lag_s, 0.0)
    if lag_s <= max_lag_s:
        return Moment(now, False, lag_s, watermark)
    if watermark is None:
        return Moment(None, True, lag_s, None)
    at = min(watermark - timedelta(seconds=1), now)  # windows end where the watermark starts
    return Moment(at, True, lag_s, watermark)
