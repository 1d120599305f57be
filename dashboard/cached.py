"""The loaders behind ``st.cache_data``: a rerun within the ttl, or another viewer asking
for the same figures, costs no query. Keys are the config path and small hashable values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.loaders import alerts, audit, overview, pipeline
from dashboard.resources import context
from dashboard.timerange import TimeRange
from domain.clock import utc_now

FIGURES_TTL = 10  # seconds: live figures are at most this old
STATUS_TTL = 5
ENTRIES = 256  # per loader: bounds the server's memory under auto-refresh


@st.cache_data(ttl=FIGURES_TTL, max_entries=ENTRIES, show_spinner=False)
def tiles(
    config: str, names: tuple[str, ...], span: TimeRange, selection: overview.Selection
) -> list[overview.Tile]:
    return overview.tiles(context(config).query, names, span, selection)


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def dimension_values(config: str, names: tuple[str, ...]) -> overview.Dimensions:
    return overview.dimension_values(context(config).query, names)


@st.cache_data(ttl=STATUS_TTL, max_entries=16, show_spinner=False)
def group_status(config: str) -> pd.DataFrame:
    ctx = context(config)
    return pipeline.group_status(ctx.store, ctx.engine)


@st.cache_data(ttl=FIGURES_TTL, max_entries=ENTRIES, show_spinner=False)
def event_rate(config: str, span: TimeRange) -> pd.DataFrame:
    ctx = context(config)
    step = max(span.seconds // 120, 60)  # about 120 points over any range
    return pipeline.event_rate(ctx.engine, ctx.kpi_group, span.start, span.end, step)


@st.cache_data(ttl=STATUS_TTL, max_entries=16, show_spinner=False)
def dead_letters(config: str) -> pd.DataFrame:
    return pipeline.dead_letters(context(config).engine)


@st.cache_data(ttl=STATUS_TTL, max_entries=64, show_spinner=False)
def history(config: str, stream: str) -> audit.History:
    return audit.history(context(config).store, stream)


@st.cache_data(ttl=STATUS_TTL, max_entries=64, show_spinner=False)
def state(config: str, stream: str, at: datetime) -> dict[str, Any]:
    return audit.state(context(config).store, stream, at)


@st.cache_data(ttl=STATUS_TTL, max_entries=16, show_spinner=False)
def alert_states(config: str) -> pd.DataFrame:
    ctx = context(config)
    return alerts.current(ctx.engine, tuple(ctx.settings.alerts.rules))


@st.cache_data(ttl=STATUS_TTL, max_entries=16, show_spinner=False)
def tile_states(config: str) -> dict[str, str]:
    ctx = context(config)
    return alerts.tile_states(ctx.engine, tuple(ctx.settings.alerts.rules))


@st.cache_data(ttl=STATUS_TTL, max_entries=ENTRIES, show_spinner=False)
def alert_changes(config: str, span: TimeRange) -> pd.DataFrame:
    return alerts.transitions(context(config).engine, *span.datetimes())


@st.cache_data(ttl=STATUS_TTL, max_entries=16, show_spinner=False)
def silences(config: str) -> pd.DataFrame:
    return alerts.running_silences(context(config).engine, utc_now())


@st.cache_data(ttl=STATUS_TTL, max_entries=16, show_spinner=False)
def ingest_config(config: str) -> dict[str, Any] | None:
    return alerts.ingest_config(context(config).engine)
