"""The scenario's inputs as typed values: durations, incidents, and the run's settings.

Durations read like ``30s``, ``10m``, ``2h``, ``7d`` (or combined, ``1h30m``). An incident
is ``KIND[:CHANNEL]@START:LENGTH``: ``payment-outage@+5m:10m``, ``marketing-campaign@-1d:2h``,
``payment-outage:wechat_pay@2024-05-01T10:00:00+08:00:30m``. ``+START`` counts from the
start of the live phase, ``-START`` back from the end of the backfill (the moment the run
started), and an ISO time is absolute (without an offset it is business-timezone time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from domain.aggregates.wallet import PAYMENT_CHANNELS

PAYMENT_OUTAGE, MARKETING_CAMPAIGN = "payment-outage", "marketing-campaign"
INCIDENT_KINDS = (PAYMENT_OUTAGE, MARKETING_CAMPAIGN)
DEFAULT_OUTAGE_CHANNEL = "alipay"
DEFAULT_TIMEZONE = "Asia/Shanghai"
WEEK = timedelta(days=7)
DEFAULT_BACKFILL_RATE = 200_000 / WEEK.total_seconds()  # events per simulated second
DEFAULT_LIVE_RATE = 20.0  # events per wall-clock second
DEFAULT_LIVE_CYCLE = 0.35  # live follows the daily curve damped to +-35%: about --rate
DEFAULT_INSTALLMENT_EVERY = timedelta(days=1)

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class ScenarioError(ValueError):
    """A simulator option that cannot be understood; the message says what was expected."""


def business_timezone(config: Path) -> ZoneInfo:
    """``business_timezone`` of the config file (default Asia/Shanghai)."""
    try:
        raw = yaml.safe_load(config.read_text(encoding="utf-8")) if config.exists() else None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{config} is not valid YAML: {exc}") from exc
    name = (raw if isinstance(raw, dict) else {}).get("business_timezone") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScenarioError(f"{config}: business_timezone {name!r} is not a time zone") from exc


def parse_duration(text: str, what: str = "duration") -> timedelta:
    """``"90s"``, ``"10m"``, ``"1h30m"``, ``"7d"`` (``"0"`` is zero) as a timedelta."""
    raw = text.strip().lower()
    if raw == "0":
        return timedelta(0)
    parts = _PART.findall(raw)
    if not raw or "".join(number + unit for number, unit in parts) != raw:
        raise ScenarioError(
            f"{what} {text!r} is not a duration; use a number and a unit (ms, s, m, h, d, w), "
            "e.g. 30s, 10m, 2h, 7d or 1h30m"
        )
    return timedelta(seconds=sum(float(number) * _UNITS[unit] for number, unit in parts))


@dataclass(frozen=True)
class Incident:
    kind: str
    length: timedelta
    at: datetime | None = None  # an absolute start ...
    offset: timedelta | None = None  # ... or one relative to live start (+) / run start (-)
    channel: str | None = None  # the payment channel an outage hits

    def start(self, run_start: datetime, live_start: datetime | None) -> datetime | None:
        """When it starts, or None while its anchor (the live start) is not known yet."""
        if self.at is not None:
            return self.at
        offset = self.offset or timedelta(0)  # parse_incident sets ``at`` or ``offset``
        if offset < timedelta(0):
            return run_start + offset
        return None if live_start is None else live_start + offset


def parse_incident(text: str, timezone: ZoneInfo | None = None) -> Incident:
    """``KIND[:CHANNEL]@START:LENGTH`` (see the module docstring)."""
    usage = (
        f"incident {text!r} must look like KIND@START:LENGTH, e.g. payment-outage@+5m:10m or "
        "marketing-campaign@2024-05-01T20:00:00+08:00:2h; KIND is one of "
        f"{', '.join(INCIDENT_KINDS)}"
    )
    head, at_sign, when = text.strip().partition("@")
    start_text, colon, length_text = when.rpartition(":")
    if not at_sign or not colon or not start_text:
        raise ScenarioError(usage)
    kind, _, channel = head.partition(":")
    if kind not in INCIDENT_KINDS:
        raise ScenarioError(f"unknown incident kind {kind!r}; {usage}")
    if channel and (kind != PAYMENT_OUTAGE or channel not in PAYMENT_CHANNELS):
        raise ScenarioError(
            f"incident {text!r}: only {PAYMENT_OUTAGE} takes a channel, one of "
            f"{', '.join(PAYMENT_CHANNELS)}"
        )
    length = parse_duration(length_text, f"length of incident {text!r}")
    if length <= timedelta(0):
        raise ScenarioError(f"incident {text!r} must last longer than 0")
    outage_channel = (channel or DEFAULT_OUTAGE_CHANNEL) if kind == PAYMENT_OUTAGE else None
    if start_text[0] in "+-":
        offset = parse_duration(start_text[1:], f"start of incident {text!r}")
        signed = -offset if start_text[0] == "-" else offset
        return Incident(kind, length, offset=signed, channel=outage_channel)
    what = f"start of incident {text!r} is neither +DURATION, -DURATION nor an ISO time"
    return Incident(kind, length, at=parse_time(start_text, what, timezone), channel=outage_channel)


def parse_time(text: str, what: str, timezone: ZoneInfo | None = None) -> datetime:
    """An ISO time as UTC; without an offset it is business-timezone time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ScenarioError(f"{what} (e.g. 2024-05-01T10:00:00+08:00): {exc}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone or ZoneInfo(DEFAULT_TIMEZONE))
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Scenario:
    """Everything that shapes the traffic; the same scenario and seed give the same history."""

    seed: int
    rate: float = DEFAULT_LIVE_RATE
    backfill_rate: float = DEFAULT_BACKFILL_RATE
    installment_every: timedelta = DEFAULT_INSTALLMENT_EVERY
    incidents: tuple[Incident, ...] = ()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    live_cycle: float = DEFAULT_LIVE_CYCLE  # 0: a flat live rate; 1: the full daily curve

    def __post_init__(self) -> None:
        for name in ("rate", "backfill_rate"):
            value = getattr(self, name)
            if not value > 0:
                raise ScenarioError(f"{name.replace('_', '-')} must be positive, got {value}")
        if not 0 <= self.live_cycle <= 1:
            raise ScenarioError(
                f"live-cycle must be between 0 (a flat rate) and 1 (the full daily curve), "
                f"got {self.live_cycle}"
            )
        if self.installment_every <= timedelta(0):
            raise ScenarioError("installment-every must be longer than 0")
