"""Reading metric inputs out of event payloads: exact scaled integers, filters, dimensions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

POWERS = [10**i for i in range(10)]


class FieldProblem(Exception):  # noqa: N818 - a signal caught per metric, not an error type
    """A payload lacks a field a metric reads, or holds the wrong type there."""

    def __init__(self, kind: str, field: str, detail: str) -> None:
        super().__init__(f"{kind} field {field!r}: {detail}")
        self.kind = kind  # missing | invalid
        self.field = field


def to_scaled(raw: object, scale: int) -> int:
    """An exact number (JSON string like "123.45", or int) as an integer of 10^-scale units."""
    if type(raw) is str:
        if scale and len(raw) > scale and raw[-scale - 1] == ".":  # "123.45" at scale 2
            try:
                return int(raw[: -scale - 1] + raw[-scale:])
            except ValueError:
                pass  # not a plain number: the checks below decide
        negative = raw.startswith("-")
        whole, _, frac = (raw[1:] if negative else raw).partition(".")
        if whole.isdigit() and len(frac) <= scale and (not frac or frac.isdigit()):
            value = int(whole) * POWERS[scale] + (
                int(frac) * POWERS[scale - len(frac)] if frac else 0
            )
            return -value if negative else value
    elif type(raw) is int:
        return raw * POWERS[scale]
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise TypeError(f"expected a number, got {type(raw).__name__}")
    try:
        exact = Decimal(str(raw)).scaleb(scale).to_integral_value(rounding=ROUND_HALF_EVEN)
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not a number") from exc
    if not exact.is_finite():
        raise ValueError(f"{raw!r} is not a finite number")
    return int(exact)


def read_field(payload: Mapping[str, Any], field: str) -> Any:
    try:
        value = payload[field]
    except KeyError:
        raise FieldProblem("missing", field, "not in the payload") from None
    if value is None:
        raise FieldProblem("missing", field, "is null")
    return value


def scaled_field(payload: Mapping[str, Any], field: str, scale: int) -> int:
    raw = payload.get(field)  # read_field, inlined: this runs for every summed value
    if type(raw) is str and scale and len(raw) > scale and raw[-scale - 1] == ".":
        try:  # to_scaled's first case, inlined: "123.45" at scale 2
            return int(raw[: -scale - 1] + raw[-scale:])
        except ValueError:
            pass  # not a plain number: to_scaled decides
    if raw is None:
        raise FieldProblem(
            "missing", field, "is null" if field in payload else "not in the payload"
        )
    try:
        return to_scaled(raw, scale)
    except (TypeError, ValueError) as exc:
        raise FieldProblem("invalid", field, str(exc)) from None


def compile_where(where: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool] | None:
    """``{channel: alipay, product: [car, consumer]}`` -> payload predicate (JSON equality)."""
    if not where:
        return None
    tests = [
        (field, frozenset(_key(v) for v in (wanted if isinstance(wanted, list) else [wanted])))
        for field, wanted in where.items()
    ]

    def matches(payload: Mapping[str, Any]) -> bool:  # hot path: one dict lookup per test
        return all(_key(payload.get(field)) in allowed for field, allowed in tests)

    return matches


def _key(value: object) -> str:
    """Compare as JSON text, so YAML's ``1`` matches a payload's ``1`` or ``"1"``."""
    if type(value) is str:
        return value
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return str(value)


def dimension(payload: Mapping[str, Any], by: str | None) -> str:
    if by is None:
        return ""
    value = payload.get(by)
    return "(none)" if value is None else _key(value)
