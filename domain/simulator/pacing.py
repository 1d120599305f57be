"""Rate control: how many client arrivals per second keep the events written at the target.

Events come from two sources: the clients' own commands (arrivals) and the follow-ups
that earlier events scheduled (KYC decisions, repayments, payouts ...). The follow-ups'
recent rate is measured; arrivals fill the rest of the target, each worth the recently
measured events per arrival (lost arrivals - nobody fitting - count as zero). So the total
meets the target from the first second of a live run, even before live follow-ups exist.
"""

from __future__ import annotations

import math

PRIOR_RATIO = 1.2  # events per arrival assumed before any is measured
MEMORY = 2_000.0  # arrivals: events per arrival is measured over about this many
TAU = 600.0  # seconds: the follow-up rate is measured over about this much time
MIN_RATIO = 0.5  # a cold start (few clients, most arrivals lost) at most doubles arrivals
FLOOR = 0.2  # clients keep arriving even when follow-ups alone reach the target


class Pacing:
    def __init__(self) -> None:
        self._own = PRIOR_RATIO * 20  # decaying sums: events of arrivals, arrivals
        self._arrivals = 20.0
        self._followups = 0.0  # decaying sum of follow-up events, as of ``_at``
        self._at = -math.inf

    def arrival(self) -> None:
        keep = 1 - 1 / MEMORY
        self._own *= keep
        self._arrivals = self._arrivals * keep + 1

    def own_events(self, count: int) -> None:
        self._own += count

    def followup_events(self, count: int, ts: float) -> None:
        self._followups = self._decayed(ts) + count
        self._at = max(self._at, ts)

    def _decayed(self, ts: float) -> float:
        if ts <= self._at:
            return self._followups
        return self._followups * math.exp((self._at - ts) / TAU)

    def followup_rate(self, ts: float) -> float:
        return self._decayed(ts) / TAU

    def events_per_arrival(self) -> float:
        return self._own / self._arrivals

    def intensity(self, target: float, boost: float, ts: float) -> float:
        """Arrivals per second for ``target`` events per second (``boost``: a campaign's
        extra arrivals on top, as the sum of the action weights)."""
        spontaneous = max(target - self.followup_rate(ts), FLOOR * target)
        return spontaneous * boost / max(self.events_per_arrival(), MIN_RATIO)
