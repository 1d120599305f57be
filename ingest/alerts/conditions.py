"""A rule's condition: a comparison (``> 10%``), a band (``outside [0.85, 0.99]``) or a change
against a base window (``drop > 50%``), with an optional recovery threshold (hysteresis)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?%?"
COMPARISON = re.compile(rf"^(>=|<=|==|>|<)\s*({NUMBER})?$")
BAND = re.compile(rf"^outside(?:\s*\[\s*({NUMBER})\s*,\s*({NUMBER})\s*\])?$")
CHANGE = re.compile(rf"^(drop|rise)\s*>\s*({NUMBER})?$")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}
FORMS = (
    "'> 0.1', '>= 5', '< 10%', '<= 0', '== 0', 'outside [0.85, 0.99]', 'drop > 50%', 'rise > 200%'"
)

Bound = float | tuple[float, float]


class Outcome(StrEnum):
    """What one evaluation of a rule found."""

    BREACH = "breach"  # the condition holds
    BAND = "band"  # it does not, but the value has not reached the recovery threshold
    CLEAR = "clear"  # it does not, and the value is past the recovery threshold
    NO_DATA = "no_data"
    ERROR = "error"
    INACTIVE = "inactive"  # outside the rule's active hours


class ConditionError(ValueError):
    """A condition, threshold or recovery that cannot be understood."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key  # the rule's key to blame: condition, threshold or recovery


def number(value: Any, key: str) -> float:
    """``0.1``, ``5``, ``"10%"`` (= 0.1) as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConditionError(key, f"{value!r} is not a number (e.g. 0.1, 5 or '10%')")
    text = str(value).strip()
    if not re.fullmatch(NUMBER, text):
        raise ConditionError(key, f"{value!r} is not a number (e.g. 0.1, 5 or '10%')")
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def bound(value: Any, band: bool, key: str) -> Bound:
    if not band:
        if isinstance(value, list | tuple):
            raise ConditionError(key, "a [lo, hi] pair goes with `outside` only")
        return number(value, key)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ConditionError(key, "`outside` needs a [lo, hi] pair")
    lo, hi = number(value[0], key), number(value[1], key)
    if lo > hi:
        raise ConditionError(key, f"[{lo}, {hi}]: lo must not be above hi")
    return lo, hi


@dataclass(frozen=True)
class Condition:
    op: str  # > >= < <= == outside drop rise
    threshold: Bound
    recovery: Bound | None = None

    @property
    def is_change(self) -> bool:
        return self.op in ("drop", "rise")

    def judge(self, value: Any) -> Outcome:
        """BREACH, BAND (not breached, recovery threshold not reached) or CLEAR."""
        if self.op == "outside":
            lo, hi = self.threshold  # type: ignore[misc]
            if value < lo or value > hi:
                return Outcome.BREACH
            if self.recovery is not None:
                rlo, rhi = self.recovery  # type: ignore[misc]
                return Outcome.CLEAR if rlo <= value <= rhi else Outcome.BAND
            return Outcome.CLEAR
        compare = COMPARE[">" if self.is_change else self.op]
        if compare(value, self.threshold):
            return Outcome.BREACH
        if self.recovery is not None and compare(value, self.recovery):
            return Outcome.BAND
        return Outcome.CLEAR

    def describe(self) -> str:
        def show(b: Bound) -> str:
            return f"[{b[0]:g}, {b[1]:g}]" if isinstance(b, tuple) else f"{b:g}"

        op = f"{self.op} >" if self.is_change else self.op
        text = f"{op} {show(self.threshold)}"
        return text + (f" (recovers at {show(self.recovery)})" if self.recovery is not None else "")


def parse_condition(text: str, threshold: Any = None, recovery: Any = None) -> Condition:
    """Read ``condition`` (with its threshold inline, or in ``threshold``) and ``recovery``."""
    spec = " ".join(text.split())
    inline: Any
    if match := COMPARISON.match(spec):
        op, inline = match.group(1), match.group(2)
    elif match := BAND.match(spec):
        op, inline = "outside", None if match.group(1) is None else [match.group(1), match.group(2)]
    elif match := CHANGE.match(spec):
        op, inline = match.group(1), match.group(2)
    else:
        raise ConditionError("condition", f"cannot read condition {text!r}; use one of {FORMS}")
    if inline is not None and threshold is not None:
        raise ConditionError("threshold", "give the threshold once: in `condition` or here")
    if inline is None and threshold is None:
        raise ConditionError("threshold", f"condition {text!r} needs a threshold")
    key = "condition" if inline is not None else "threshold"
    limit = bound(inline if inline is not None else threshold, op == "outside", key)
    condition = Condition(op, limit)
    if recovery is None:
        return condition
    if op == "==":
        raise ConditionError("recovery", "an `==` condition has no recovery threshold")
    back = bound(recovery, op == "outside", "recovery")
    _check_recovery(op, limit, back)
    return Condition(op, limit, back)


def _check_recovery(op: str, limit: Bound, back: Bound) -> None:
    if isinstance(limit, tuple) and isinstance(back, tuple):
        if not limit[0] <= back[0] <= back[1] <= limit[1]:
            raise ConditionError(
                "recovery",
                f"recovery band {list(back)} must lie inside the threshold band {list(limit)}",
            )
        return
    upward = op in (">", ">=", "drop", "rise")
    if (upward and back > limit) or (not upward and back < limit):  # type: ignore[operator]
        side = "at or below" if upward else "at or above"
        raise ConditionError(
            "recovery", f"recovery {back:g} must be {side} the threshold {limit:g} for {op!r}"
        )
