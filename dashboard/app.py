"""LedgerLens dashboard: ``streamlit run dashboard/app.py`` (config from $LEDGERLENS_CONFIG,
default config.yaml). The one router: login, the pages the viewer's role may open, and the
sidebar's time range; each page is a script under ``dashboard/views``.

The folder is not called ``pages``: Streamlit treats a ``pages/`` folder beside the entry
script as a legacy multipage app and serves ``/pipeline`` straight from ``pages/pipeline.py``
on a fresh session, without running this router (and its login) first.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ first
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, controls, session  # noqa: E402
from dashboard.loaders.readiness import not_ready  # noqa: E402
from dashboard.resources import context  # noqa: E402
from ingest.config_loader import ConfigError  # noqa: E402

VIEWS = Path(__file__).resolve().parent / "views"  # not "pages": see the docstring
PAGE_TITLES = {"overview": "Overview", "alerts": "Alerts", "pipeline": "Pipeline",
               "audit": "Audit"}  # fmt: skip
ICONS = {"overview": ":material/monitoring:", "alerts": ":material/notifications:",
         "pipeline": ":material/account_tree:", "audit": ":material/manage_search:"}  # fmt: skip

st.set_page_config(page_title="LedgerLens", page_icon=":material/monitoring:", layout="wide")
try:
    ctx = context()
except (ConfigError, OSError) as exc:
    st.error(f"LedgerLens cannot read its configuration:\n\n```\n{exc}\n```")
    st.stop()
role = session.gate(ctx)
waiting = not_ready(ctx.engine)
if waiting is not None:
    st.info(f"Waiting for ingest: {waiting}. Is `python -m ingest run` running?", icon="⏳")
    time.sleep(2)  # a fresh demo database gets its tables within seconds
    st.rerun()
pages = [
    st.Page(VIEWS / f"{name}.py", title=title, icon=ICONS[name], url_path=name,
            default=name == "overview")
    for name, title in PAGE_TITLES.items()
    if auth.can_open(role, name)
]  # fmt: skip
navigation = st.navigation(pages)
controls.time_controls(ctx.settings.business_timezone, ctx.settings.dashboard.refresh_s)
navigation.run()
