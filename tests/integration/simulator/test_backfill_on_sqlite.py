"""A short backfill into a real SQLite file: every kind of event, and the books balance."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from domain.events import EVENT_TYPES
from domain.eventstore import EventStore
from domain.platform import bootstrap
from domain.simulator.cache import CachingStore
from tests.unit.domain.test_ledger_properties import check_ledger
from tests.unit.simulator.helpers import all_events, backfill


def test_four_hours_of_backfill_write_every_event_type_and_keep_the_ledger_balanced(
    sqlite_url: str,
):
    store = EventStore.from_url(sqlite_url)
    try:
        # Loan months of 3 minutes, so loans are repaid, fall overdue, settle and default
        # within the four hours; an outage makes withdrawals fail.
        simulation = backfill(
            store,
            hours=4,
            seed=2,
            installment_every=timedelta(minutes=3),
            incidents=("payment-outage@-3h:1h",),
        )
        records = all_events(store)
        seen = Counter(r.event_type for r in records)
        assert set(EVENT_TYPES) - set(seen) == set()  # none missing in this window
        assert seen["RepaymentOverdue"] > 10 and seen["LoanDefaulted"] >= 1
        assert sum(seen.values()) == simulation.backfill_stats.total
        buckets = {
            min(r.payload["days_past_due"] // 30, 2)
            for r in records
            if r.event_type == "RepaymentOverdue"
        }
        assert buckets == {0, 1, 2}  # 1-30, 31-60 and 61+ days past due
        check_ledger(bootstrap(CachingStore(store)), store)  # type: ignore[arg-type]
    finally:
        store.close()
