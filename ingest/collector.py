"""Garbage-collector settings for the ingest process.

A batch allocates tens of thousands of short-lived objects (rows, records, payload dicts)
that reference counting frees; almost none form cycles. With CPython's default gen-0
threshold (700 allocations) the collector ran about fifteen times per 10k-event batch and,
through its older generations, kept scanning everything the process had imported: a third
of a no-op replay of 1M events (measured, bench/RESULTS.md). Freezing what start-up created
and collecting young objects every 100k allocations instead keeps cycles collected while
removing that cost.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 100_000
_tuned = False


def tune_collector() -> None:
    """Once per process: collect, freeze the objects alive now (imports, settings, engines)
    out of later scans, and collect the young generation every ``YOUNG_THRESHOLD``
    allocations."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()  # nothing unreachable gets frozen
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
