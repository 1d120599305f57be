"""The state machine of one alert: what an evaluation's outcome does to its state.

```
 normal/no_data --breach--> pending --breach for `for`--> firing <--breach-- recovering
       ^                      |                            |  band, or clear within   ^
       |                      +--not breach--> normal      |  keep_firing_for --------+
       +---------- clear after keep_firing_for ------------+--------------------------+
```
A firing alert is *active* from ``active_since`` until it returns to normal; ``recovering``
is still active (no resolved notification), so a value flapping around the threshold,
but above the recovery threshold, never resolves and re-fires. ``error`` keeps every timer:
an alert that cannot be evaluated is neither resolved nor fired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ingest.alerts.conditions import Outcome

NORMAL, PENDING, FIRING, RECOVERING = "normal", "pending", "firing", "recovering"
NO_DATA, ERROR = "no_data", "error"
STATES = (NORMAL, PENDING, FIRING, RECOVERING, NO_DATA, ERROR)


@dataclass(frozen=True)
class AlertStatus:
    """Where one rule's alert stands; ``at`` times are evaluation times (event time when
    stale, wall-clock time otherwise)."""

    rule: str
    state: str = NORMAL
    since: datetime | None = None  # when the current state began
    pending_since: datetime | None = None
    active_since: datetime | None = None  # firing or recovering since (startsAt)
    fired_at: datetime | None = None  # when it last started firing (kept once resolved)
    last_breach_at: datetime | None = None
    evaluated_at: datetime | None = None
    value: float | None = None
    stale: bool = False
    detail: str = ""
    notified: str = ""  # what receivers last heard: "" | firing | resolved
    silenced: bool = False

    @property
    def active(self) -> bool:
        return self.active_since is not None


@dataclass(frozen=True)
class Evaluation:
    outcome: Outcome
    at: datetime
    value: float | None = None
    stale: bool = False
    detail: str = ""
    current: object = None  # the metric over the window (a change rule's value is the change)
    base: object = None  # the base window's figure (change rules)


def advance(
    status: AlertStatus,
    ev: Evaluation,
    *,
    pending_for: int,
    keep_firing_for: int,
    no_data: str,
) -> AlertStatus:
    """The status after one evaluation (``no_data``: the rule's policy)."""
    outcome = ev.outcome
    if outcome is Outcome.NO_DATA:
        if no_data == "keep_last":
            return _seen(status, ev)
        outcome = Outcome.BREACH if no_data == "alerting" else Outcome.CLEAR
        after = _step(status, outcome, ev.at, pending_for, keep_firing_for)
        if after.state == NORMAL:
            after = replace(after, state=NO_DATA)
    elif outcome is Outcome.ERROR:
        after = replace(status, state=ERROR)
    else:
        if outcome is Outcome.INACTIVE:
            outcome = Outcome.CLEAR
        after = _step(status, outcome, ev.at, pending_for, keep_firing_for)
    unchanged = after.state == status.state and status.since is not None
    since = status.since if unchanged else ev.at
    return replace(_seen(after, ev), since=since)


def _seen(status: AlertStatus, ev: Evaluation) -> AlertStatus:
    return replace(status, evaluated_at=ev.at, value=ev.value, stale=ev.stale, detail=ev.detail)


def _step(
    status: AlertStatus, outcome: Outcome, at: datetime, pending_for: int, keep_firing_for: int
) -> AlertStatus:
    if outcome is Outcome.BREACH:
        if status.active:
            return replace(status, state=FIRING, last_breach_at=at)
        pending_since = status.pending_since or at
        if at - pending_since >= timedelta(seconds=pending_for):
            return replace(
                status,
                state=FIRING,
                pending_since=None,
                active_since=at,
                fired_at=at,
                last_breach_at=at,
            )
        return replace(status, state=PENDING, pending_since=pending_since, last_breach_at=at)
    if not status.active:
        return replace(status, state=NORMAL, pending_since=None)
    held = outcome is Outcome.BAND or (
        status.last_breach_at is not None
        and at - status.last_breach_at < timedelta(seconds=keep_firing_for)
    )
    if held:
        return replace(status, state=RECOVERING)
    return replace(status, state=NORMAL, active_since=None, pending_since=None)
