"""KPI tiles on the page: value, delta vs the previous period and vs yesterday, a
sparkline, and a border coloured by the alert state of the rules on that metric."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from dashboard.format import delta, figure
from dashboard.loaders.overview import Tile

COLUMNS = 4
DEFAULT_CHARTS = 8  # KPIs that also get a chart by default (the first ones)
STATE_COLOURS = {"firing": "#d62728", "pending": "#ff7f0e", "unknown": "#7f7f7f", "ok": "#2ca02c"}
STYLE = "\n".join(
    [
        f'[class*="st-key-tile-{state}-"] {{border: 2px solid {colour} !important; '
        f"box-shadow: inset 4px 0 0 {colour};}}"
        for state, colour in STATE_COLOURS.items()
    ]
    # amounts to the fen fit a quarter of the page: smaller figures that wrap, never "…"
    + ['[class*="st-key-tile-"] [data-testid="stMetricValue"] {font-size: 1.6rem;}',
       '[class*="st-key-tile-"] [data-testid="stMetricValue"] * {white-space: normal; '
       "overflow: visible; text-overflow: clip; overflow-wrap: anywhere;}"]
)  # fmt: skip


def tile_text(tile: Tile, amount_unit: str) -> tuple[str, str | None, str]:
    """The tile's value, its delta vs the previous period, and its yesterday line."""
    value = figure(tile.value, tile.unit, amount_unit)
    change = delta(tile.value, tile.previous, tile.unit)
    yesterday = delta(tile.value, tile.yesterday, tile.unit)
    before = figure(tile.yesterday, tile.unit, amount_unit)
    line = f"vs same time yesterday: {yesterday or '—'} ({before})"
    return value, change, line


def label(tile: Tile) -> str:
    return tile.label if tile.dim is None else f"{tile.label} · {tile.dim}"


def render(
    tiles: Sequence[Tile], amount_unit: str, states: Mapping[str, str] | None = None
) -> None:
    """A grid of tiles; ``states``: metric -> worst alert state of its rules (firing,
    pending, unknown, ok); metrics without rules are not coloured."""
    st.html(f"<style>{STYLE}</style>")
    states = states or {}
    columns = st.columns(COLUMNS)
    for index, tile in enumerate(tiles):
        value, change, line = tile_text(tile, amount_unit)
        state = states.get(tile.name, "none")
        with (
            columns[index % COLUMNS],
            st.container(border=True, key=f"tile-{state}-{tile.name}"),
        ):
            st.metric(
                label(tile),
                value,
                change,
                help=_help(tile, state),
                chart_data=tile.spark if len(tile.series) > 1 else None,
                chart_type="area" if tile.level else "line",
                delta_description="vs previous period" if change else None,
            )
            st.caption(line)


def _help(tile: Tile, state: str) -> str:
    kind = "level at the end of the range" if tile.level else "over the selected range"
    alert = "" if state == "none" else f" Alert state: {state}."
    return f"`{tile.name}`: {kind}.{alert}"
