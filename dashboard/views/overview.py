"""Overview (business): KPI tiles and charts over the selected range."""

from __future__ import annotations

import streamlit as st

from dashboard import cached, charts, controls, session, tiles
from dashboard.format import local_time
from dashboard.loaders import alerts, marks
from dashboard.loaders.overview import selection
from dashboard.resources import context
from ingest.metrics.windows import parse_duration

ctx = context()
session.require(ctx, "overview")
settings = ctx.settings
zone = settings.business_timezone
declared = {metric.name for metric in settings.metrics}
names = tuple(name for name in settings.dashboard.overview if name in declared)
rules = tuple(settings.alerts.rules)

st.title("Overview")
if not names:
    st.info(
        "No metric to show: declare metrics in config.yaml and list them in dashboard.overview."
    )
    st.stop()
amount_unit = controls.amount_unit_control(settings.dashboard.amount_unit)
dimensions = cached.dimension_values(ctx.config, names)
selected = selection(dimensions, controls.filter_controls(dimensions))
titles = {name: ctx.query.metric(name).title for name in names}
charted = st.sidebar.multiselect(
    "Charts", names, default=names[: tiles.DEFAULT_CHARTS], key="charts",
    format_func=titles.__getitem__, persist_state="session",
    help="Every KPI has a tile; these also get a chart",
)  # fmt: skip
first = controls.current_view_or_stop(zone)


@st.fragment(run_every=first.refresh_s)
def figures() -> None:
    view = controls.current_view(zone)
    span = view.span
    st.caption(
        f"{local_time(span.start, zone)} – {local_time(span.end, zone)} ({zone}), "
        f"series every {span.step}"
        + ("" if view.refresh_s is None else f"; refreshed every {view.refresh_s} s")
    )
    shown = cached.tiles(ctx.config, names, span, selected)
    tiles.render(shown, amount_unit, cached.tile_states(ctx.config))
    firing = alerts.active_by_metric(
        cached.alert_changes(ctx.config, span), rules, *span.datetimes()
    )
    step = parse_duration(span.step)
    left, right = st.columns(2)
    for index, tile in enumerate(t for t in shown if t.name in charted):
        figure = charts.metric_chart(
            tile.series, title=tiles.label(tile), unit=tile.unit, zone=zone, level=tile.level,
            thresholds=marks.thresholds(ctx.query, rules, tile.name, tile.dim, step),
            firing=firing.get(tile.name, []),
            window=span.datetimes(), in_progress=tile.in_progress,
        )  # fmt: skip
        with left if index % 2 == 0 else right:
            st.plotly_chart(figure, key=f"chart-{tile.name}", config={"displayModeBar": False})
    if rules:
        st.caption("Dashed lines: alert thresholds comparable with the points; shaded: periods "
                   "a rule on the metric was firing.")  # fmt: skip


figures()
