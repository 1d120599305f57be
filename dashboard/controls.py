"""The sidebar's global controls: time range (presets ending now, or custom), auto-refresh,
amount unit and dimension filters. Range and filters are bound to the URL's query
parameters (``?range=custom&from=2024-06-30T08:00&to=...&channel=alipay``), so a view can
be shared as a link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard.format import AMOUNT_UNITS
from dashboard.loaders.overview import Dimensions
from dashboard.timerange import CUSTOM, PRESETS, RANGES, RangeError, TimeRange, custom, preset
from domain.clock import utc_now

INTERVALS = (10, 30, 60, 300)
UNIT_LABELS = {"yuan": "¥ (yuan)", "wan": "万 (10⁴)", "yi": "亿 (10⁸)", "auto": "万 / 亿 (auto)"}
ALL = "All"


@dataclass(frozen=True)
class View:
    span: TimeRange
    refresh_s: int | None  # None: auto-refresh is off
    zone: str


def time_controls(zone: str, default_refresh: int) -> None:
    """Range and refresh widgets, in the sidebar, on every page."""
    bar = st.sidebar
    bar.selectbox(
        "Time range",
        RANGES,
        index=RANGES.index("24h"),
        key="range",
        help="The last 15 minutes ... 30 days, ending now, or a custom range",
        bind="query-params",
    )  # the option itself goes into the URL: ?range=7d
    if st.session_state.get("range") == CUSTOM:
        now = utc_now().astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)
        bar.datetime_input(
            "From",
            now - timedelta(days=1),
            key="from",
            step=300,
            bind="query-params",
            format="YYYY-MM-DD",
        )
        bar.datetime_input("To", now, key="to", step=300, bind="query-params", format="YYYY-MM-DD")
        bar.caption(f"Times are {zone}.")
    interval = default_refresh if default_refresh in INTERVALS else INTERVALS[1]
    bar.toggle("Auto-refresh", value=True, key="auto_refresh", persist_state="session")
    bar.selectbox("Every", INTERVALS, index=INTERVALS.index(interval), key="refresh_every",
                  format_func=lambda s: f"{s} s" if s < 60 else f"{s // 60} min",
                  disabled=not st.session_state.get("auto_refresh", True),
                  persist_state="session")  # fmt: skip


def current_view_or_stop(zone: str) -> View:
    """``current_view``, or the page stops with the reason the range is not usable."""
    try:
        return current_view(zone)
    except RangeError as exc:
        st.warning(str(exc))
        st.stop()


def current_view(zone: str, now: datetime | None = None) -> View:
    """The range as of now (a preset moves with the clock at every refresh)."""
    name = st.session_state.get("range", "24h")
    if name == CUSTOM:
        start, end = st.session_state.get("from"), st.session_state.get("to")
        if start is None or end is None:
            raise RangeError("pick both ends of the custom range")
        tz = ZoneInfo(zone)
        span = custom(start.replace(tzinfo=tz), end.replace(tzinfo=tz))
        refresh = None  # a fixed period does not move
    else:
        span = preset(name if name in PRESETS else "24h", now or utc_now())
        auto = st.session_state.get("auto_refresh", True)
        refresh = int(st.session_state.get("refresh_every", INTERVALS[1])) if auto else None
    return View(span, refresh, zone)


def amount_unit_control(default: str) -> str:
    return str(
        st.sidebar.selectbox(
            "Amounts in",
            AMOUNT_UNITS,
            index=AMOUNT_UNITS.index(default),
            key="amount_unit",
            format_func=UNIT_LABELS.__getitem__,
            persist_state="session",
        )
    )


def filter_controls(dimensions: Dimensions) -> list[tuple[str, str]]:
    """A select per dimension (channel, product); the (dimension, value) filters set."""
    chosen: list[tuple[str, str]] = []
    for dimension, options in dimensions.items():
        picked = st.sidebar.selectbox(
            dimension.capitalize(), [ALL, *options], key=dimension, bind="query-params",
        )  # fmt: skip
        if picked and picked != ALL:
            chosen.append((dimension, str(picked)))
    return chosen
