"""What a run wrote: events by type, rejected commands by error type, and rates."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from domain.events import EVENT_TYPES, DomainEvent


class Stats:
    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.commands = 0
        self.started = time.monotonic()
        self._last_total, self._last_at = 0, self.started
        self.lag = 0.0  # live: the longest a command waited past its time since the last line
        self.max_lag = 0.0

    @property
    def total(self) -> int:
        return sum(self.events.values())

    def accepted(self, events: Sequence[DomainEvent]) -> None:
        self.commands += 1
        self.events.update(type(event).__name__ for event in events)

    def rejected(self, error: Exception) -> None:
        self.commands += 1
        self.rejects[type(error).__name__] += 1

    def behind(self, seconds: float) -> None:
        self.lag = max(self.lag, seconds)
        self.max_lag = max(self.max_lag, seconds)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress_line(self) -> str:
        """Events/s since the previous line, totals by type and rejects (live mode)."""
        now, total = time.monotonic(), self.total
        rate = (total - self._last_total) / max(now - self._last_at, 1e-9)
        self._last_total, self._last_at = total, now
        lag, self.lag = self.lag, 0.0
        behind = f" | BEHIND by {lag:.1f}s: the store cannot keep up" if lag > 1 else ""
        return (
            f"[{self.elapsed():7.1f}s] {rate:7.1f} events/s | {total:,} events, "
            f"{self.commands:,} commands, {sum(self.rejects.values()):,} rejected | "
            f"{_counts(self.events)}"
            + (f" | rejected: {_counts(self.rejects)}" if self.rejects else "")
            + behind
        )

    def summary(self, title: str) -> str:
        elapsed = self.elapsed()
        lines = [
            f"{title}: {self.total:,} events from {self.commands:,} commands in {elapsed:.1f}s "
            f"({self.total / max(elapsed, 1e-9):,.0f} events/s)"
        ]
        known = [name for name in EVENT_TYPES if self.events[name]]
        known += sorted(name for name in self.events if name not in EVENT_TYPES)
        lines += [f"  {name:<22}{self.events[name]:>10,}" for name in known]
        if self.max_lag > 1:
            lines.append(
                f"  fell behind its schedule by up to {self.max_lag:.1f}s "
                "(the store could not keep up with the rate)"
            )
        if self.rejects:
            lines.append(
                f"  rejected commands ({sum(self.rejects.values()):,}, expected: "
                "clients acting on a stale view):"
            )
            lines += [f"    {name:<28}{count:>8,}" for name, count in self.rejects.most_common()]
        return "\n".join(lines)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in counter.most_common())
