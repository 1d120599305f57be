"""Alerts: every rule's current state (firing first), its history, the running silences."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, controls, session
from dashboard.format import NONE, figure, local_time, percent
from dashboard.loaders import alerts
from dashboard.resources import context
from domain.clock import utc_now

TRANSITIONS_SHOWN = 200
COLOURS = {"firing": "#d62728", "recovering": "#ff7f0e", "pending": "#ff7f0e", "error": "#7f7f7f",
           "normal": "#2ca02c"}  # fmt: skip

ctx = context()
session.require(ctx, "alerts")
settings = ctx.settings
zone = settings.business_timezone
st.title("Alerts")
if not settings.alerts.rules:
    st.info("No alert rule is configured: add rules under alerts.rules in config.yaml.")
    st.stop()
if not settings.alerts.enabled:
    st.warning("Alerts are disabled (alerts.enabled: false): states below are the last known.")
first = controls.current_view_or_stop(zone)


def state_style(state: str) -> str:
    colour = COLOURS.get(state)
    return "" if colour is None else f"background-color: {colour}; color: white"


def shown_value(row: pd.Series) -> str:
    if pd.isna(row["value"]):
        return NONE
    if row["change"]:
        return percent(row["value"])  # a drop or rise: the change, not the metric
    metric = ctx.query.metrics.get(str(row["metric"]))
    return figure(row["value"], metric.unit if metric else "count")


def when(moment: object) -> str:
    if moment is None or pd.isna(moment):
        return NONE
    return local_time(int(pd.Timestamp(moment).timestamp()), zone, seconds=True)


@st.fragment(run_every=first.refresh_s)
def current() -> None:
    states = cached.alert_states(ctx.config)
    counts = states["state"].value_counts()
    firing, pending, silenced = st.columns(3)
    firing.metric("Firing", int(counts.get("firing", 0) + counts.get("recovering", 0)))
    pending.metric("Pending", int(counts.get("pending", 0)))
    silenced.metric("Silenced", int(states["silenced"].fillna(False).astype(bool).sum()))
    table = pd.DataFrame({
        "state": states["state"],
        "rule": states["rule"], "severity": states["severity"],
        "value": [shown_value(row) for _, row in states.iterrows()],
        "condition": states["condition"], "window": states["window"],
        "since": [when(m) for m in states["since"]],
        "firing since": [when(m) for m in states["active_since"]],
        "summary": states["summary"],
        "silenced": states["silenced"].fillna(False).astype(bool),
        "stale": states["stale"].fillna(False).astype(bool), "detail": states["detail"],
    })  # fmt: skip
    st.dataframe(table.style.map(state_style, subset=["state"]), hide_index=True)
    st.caption(f"Times in {zone}. A stale evaluation ran at the ingest's watermark while it "
               "lagged, and notified nobody.")  # fmt: skip

    span = controls.current_view(zone).span
    start, end = span.datetimes()
    changes = cached.alert_changes(ctx.config, span)
    st.subheader("History")
    spans = alerts.periods(changes, start, end)
    if spans.empty:
        st.caption("No rule left the normal state in the selected range.")
    else:
        shown_to = min(utc_now(), end)
        st.plotly_chart(charts.timeline_chart(spans, zone, start, shown_to), key="timeline",
                        config={"displayModeBar": False})  # fmt: skip
    inside = changes[changes["at"] >= start].tail(TRANSITIONS_SHOWN).iloc[::-1]
    if not inside.empty:
        st.dataframe(
            pd.DataFrame({"at": [when(m) for m in inside["at"]], "rule": inside["rule"],
                          "from": inside["from_state"], "to": inside["to_state"],
                          "detail": inside["detail"]}),
            hide_index=True,
        )  # fmt: skip


current()

st.subheader("Silences")
running = cached.silences(ctx.config)
if running.empty:
    st.caption("No silence is running. `python -m ingest silence add RULE --for 2h --reason ...`")
else:
    st.dataframe(
        running.assign(
            matchers=[", ".join(f"{k}={v}" for k, v in m.items()) or "all" for m in
                      running["matchers"]],
            starts_at=[when(m) for m in running["starts_at"]],
            ends_at=[when(m) for m in running["ends_at"]],
        ),
        hide_index=True,
    )  # fmt: skip
