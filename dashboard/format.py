"""How figures read: thousands separators, 万 / 亿 amounts, percents, durations, deltas.

Every function takes the query API's value (int, float, Decimal or None) and returns text;
None (no data in the window) reads as an em dash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ingest.metrics.query import Number

NONE = "—"
WAN = Decimal(10_000)
YI = Decimal(100_000_000)
AMOUNT_UNITS = ("yuan", "wan", "yi", "auto")


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def amount(value: Number, unit: str = "yuan") -> str:
    """CNY: ``¥1,234,567.89``; ``wan``: ``¥123.46万``; ``yi``: ``¥0.01亿``; ``auto`` picks
    万 from ten thousand and 亿 from a hundred million."""
    if value is None:
        return NONE
    money = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if unit == "auto":
        unit = "yi" if abs(money) >= YI else "wan" if abs(money) >= WAN else "yuan"
    if unit == "wan":
        return f"¥{_quantize(money / WAN, 2):,}万"
    if unit == "yi":
        return f"¥{_quantize(money / YI, 2):,}亿"
    if unit != "yuan":
        raise ValueError(f"unknown amount unit {unit!r} (units: {', '.join(AMOUNT_UNITS)})")
    return f"¥{_quantize(money, 2):,}"


def count(value: Number) -> str:
    if value is None:
        return NONE
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{_quantize(number, 2):,}"


def counted(number: int, noun: str) -> str:
    """``1 event``, ``2,048 events``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def percent(value: Number, places: int = 1) -> str:
    """A fraction (0.1234) as ``12.3%``."""
    if value is None:
        return NONE
    return f"{float(value) * 100:,.{places}f}%"


def duration(seconds: Number) -> str:
    """``850 ms``, ``42.0 s``, ``12m 05s``, ``3h 20m``, ``2d 4h``."""
    if seconds is None:
        return NONE
    total = float(seconds)
    sign, total = ("-", -total) if total < 0 else ("", total)
    if total < 1:
        return f"{sign}{total * 1000:.0f} ms"
    if total < 60:
        return f"{sign}{total:.1f} s"
    whole = round(total)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def figure(value: Number, unit: str, amount_unit: str = "yuan") -> str:
    """A metric's value in its declared unit (CNY, percent, seconds, days, count ...)."""
    if unit == "CNY":
        return amount(value, amount_unit)
    if unit == "percent":
        return percent(value)
    if unit == "seconds":
        return duration(value)
    if unit == "days":
        return NONE if value is None else f"{float(value):,.1f} d"
    return count(value)


def delta(current: Number, before: Number, unit: str) -> str | None:
    """The change from ``before`` to ``current``: percentage points for percents, a relative
    change otherwise; None when there is nothing to compare (Streamlit then shows no delta)."""
    if current is None or before is None:
        return None
    if unit == "percent":
        return f"{(float(current) - float(before)) * 100:+,.1f} pp"
    now, then = Decimal(str(current)), Decimal(str(before))
    if then == 0:
        return None if now == 0 else "new"
    change = (now - then) / abs(then) * 100
    return f"{_quantize(change, 1):+,}%"


def local_time(epoch: int, zone: str, *, seconds: bool = False) -> str:
    """Epoch seconds as business-timezone wall-clock time."""
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
