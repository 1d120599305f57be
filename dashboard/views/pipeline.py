"""Pipeline (ops): processing groups, event rate, dead letters."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import cached, charts, controls, session
from dashboard.format import counted, local_time
from dashboard.resources import context

DEAD_LETTERS_SHOWN = 20

ctx = context()
session.require(ctx, "pipeline")
zone = ctx.settings.business_timezone
st.title("Pipeline")
first = controls.current_view_or_stop(zone)


@st.fragment(run_every=first.refresh_s)
def groups() -> None:
    status = cached.group_status(ctx.config)
    if status.empty:
        st.info("No processing group has run yet: start `python -m ingest run`.")
    else:
        head, lag, dead = st.columns(3)
        head.metric("Head position", f"{int(status['head'].max()):,}")
        behind = counted(int(status["lag_events"].max()), "event")
        lag.metric("Largest lag", f"{behind} · {status['lag_seconds'].max():,.1f} s")
        dead.metric("Dead letters", f"{int(status['dead_letters'].sum()):,}")
        st.dataframe(
            status.drop(columns=["replay"]), hide_index=True, key="groups",
            column_config={
                "lag_seconds": st.column_config.NumberColumn("lag (s)", format="%.1f"),
                "events_per_s": st.column_config.NumberColumn("events/s", format="%.1f"),
                "lag_events": st.column_config.NumberColumn("lag (events)", format="localized"),
                "position": st.column_config.NumberColumn(format="localized"),
                "head": st.column_config.NumberColumn(format="localized"),
                "events_total": st.column_config.NumberColumn("processed", format="localized"),
                "error_policy": "error policy", "dead_letters": "dead letters",
                "last_error": "last error",
                "last_error_at": st.column_config.DatetimeColumn(
                    "last error at", format="YYYY-MM-DD HH:mm:ss", timezone=zone),
                "heartbeat_at": st.column_config.DatetimeColumn(
                    "heartbeat", format="YYYY-MM-DD HH:mm:ss", timezone=zone),
            },
        )  # fmt: skip
        for row in status.itertuples():
            if row.replay:
                st.info(f"{row.group}: replay to generation {row.replay.get('generation')} at "
                        f"position {row.replay.get('position'):,}")  # fmt: skip
    rates = cached.event_rate(ctx.config, controls.current_view(zone).span)
    if rates.empty:
        st.caption("No events in the selected range.")
    else:
        st.plotly_chart(
            charts.rate_chart(rates, zone), key="rate", config={"displayModeBar": False}
        )


groups()


@st.fragment(run_every=first.refresh_s)
def problems() -> None:
    st.subheader("Dead letters")
    letters = cached.dead_letters(ctx.config)
    if letters.empty:
        st.success("No parked or skipped events.")
    else:
        st.dataframe(letters.drop(columns=["traceback", "event"]), hide_index=True, key="letters")
        for row in letters.head(DEAD_LETTERS_SHOWN).itertuples():
            with st.expander(f"#{row.id} {row.group_name}: {row.event_type} of {row.stream_id} "
                             f"v{row.version} ({row.state})"):  # fmt: skip
                st.error(row.error or row.reason)
                st.json(json.loads(json.dumps(row.event, default=str)), expanded=2)
                if row.traceback:
                    st.code(row.traceback, language="text")
        if len(letters) > DEAD_LETTERS_SHOWN:
            st.caption(f"Details of the first {DEAD_LETTERS_SHOWN} of {len(letters):,}; "
                       "`python -m ingest dead-letters list` shows all.")  # fmt: skip
    st.caption("Retry or discard with `python -m ingest dead-letters retry|discard --group G`.")

    st.subheader("Configuration")
    config = cached.ingest_config(ctx.config)
    if config is None:
        st.caption("No running ingest has recorded its configuration yet.")
    else:
        applied, refused = config["applied_at"], config["refused_at"]
        st.markdown(
            f"`{config['path']}`: last applied "
            f"{local_time(int(applied.timestamp()), zone, seconds=True) if applied else 'never'}"
        )
        if refused is not None:
            when = local_time(int(refused.timestamp()), zone, seconds=True)
            if applied is None or refused > applied:
                st.error(f"Change refused at {when}; the last good configuration keeps running:\n\n"
                         f"```\n{config['refused_message']}\n```")  # fmt: skip
            else:
                st.caption(f"A change refused at {when} has since been fixed.")


problems()
