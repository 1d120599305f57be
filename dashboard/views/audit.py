"""Audit (ops): an aggregate's events in order, and its state at a chosen moment."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import cached, session
from dashboard.format import local_time
from dashboard.loaders.audit import KINDS, BadIdError, stream_id
from dashboard.resources import context

ctx = context()
session.require(ctx, "audit")
zone = ctx.settings.business_timezone
st.title("Audit")
st.caption("Look up a user, wallet or loan by id: every event of its stream, in order, and "
           "its state as it stood at any of those moments, rebuilt from the events.")  # fmt: skip
kind_column, id_column = st.columns([1, 3])
kind = kind_column.selectbox("Kind", KINDS, key="kind", bind="query-params")
typed = id_column.text_input("Id", key="id", placeholder="U000001 or loan-L000001",
                             bind="query-params")  # fmt: skip
if not typed:
    st.stop()
try:
    stream = stream_id(str(kind), typed)
except BadIdError as exc:
    st.warning(str(exc))
    st.stop()
history = cached.history(ctx.config, stream)
if not history.found:
    st.info(f"No events for `{stream}`.")
    st.stop()

events = history.events
st.subheader(f"{stream}: {len(events):,} events")
shown = events.assign(
    occurred_at=pd.to_datetime(events["occurred_at"], utc=True).dt.tz_convert(zone),
    recorded_at=pd.to_datetime(events["recorded_at"], utc=True).dt.tz_convert(zone),
    payload=events["payload"].map(lambda p: json.dumps(p, ensure_ascii=False, default=str)),
    metadata=events["metadata"].map(lambda m: json.dumps(m, ensure_ascii=False, default=str)),
)
st.dataframe(shown, hide_index=True, key="events")
st.caption(f"Times in {zone}: occurred_at is business time, recorded_at when it was stored.")

st.subheader("State at a moment")
moments = {m.version: m for m in events.itertuples()}
labels = {
    v: f"v{v} · {local_time(int(m.occurred_at.timestamp()), zone, seconds=True)}"
    for v, m in moments.items()
}
version = st.select_slider(
    "As of the event", options=list(moments), value=max(moments), key="as_of",
    format_func=labels.get,
)  # fmt: skip
chosen = moments[int(version)]
moment = local_time(int(chosen.occurred_at.timestamp()), zone, seconds=True)
st.caption(f"Every event that occurred by {moment} ({zone}; {chosen.event_type}, "
           f"v{chosen.version}) applied to an empty {kind}.")  # fmt: skip
st.json(cached.state(ctx.config, stream, chosen.occurred_at.to_pydatetime()), expanded=True)
