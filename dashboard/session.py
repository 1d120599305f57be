"""Login in the browser session: the form, the signed-in user, the demo-mode banner, and
the check every page makes before it shows anything."""

from __future__ import annotations

import streamlit as st

from dashboard import auth
from dashboard.resources import Context

USER = "ledgerlens_user"  # session_state: {"name": ..., "role": ...}
DEMO_BANNER = (
    "**Demo mode, no login**: anyone who can reach this address sees every page. "
    "Configure `dashboard.auth` (or `$LEDGERLENS_DASHBOARD_USERS`) to require a login."
)


def gate(ctx: Context) -> str | None:
    """Return the role of the signed-in user (None: login is off, demo mode); without a
    signed-in user, show the login form and stop the run."""
    try:
        users = auth.accounts(ctx.settings.dashboard.auth)
    except auth.AuthConfigError as exc:
        st.error(str(exc))
        st.stop()
    if users is None:
        st.session_state.pop(USER, None)
        st.warning(DEMO_BANNER, icon="⚠️")
        return None
    user = st.session_state.get(USER)
    if user is not None and user["name"] in users:
        with st.sidebar:
            st.caption(f"Signed in as **{user['name']}** ({user['role']})")
            st.button("Log out", key="logout", on_click=_logout)
        return str(users[user["name"]].role)
    _login_form(users)
    st.stop()


def _login_form(users: dict[str, auth.Account]) -> None:
    st.title("LedgerLens")
    if not users:
        st.error("Login is required but no user is configured: add users to dashboard.auth.")
        return
    with st.form("login", clear_on_submit=True):  # the password does not linger in the session
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        account = auth.verify(users, name, password)
        if account is None:
            st.error("Wrong user name or password.")
            return
        st.session_state[USER] = {"name": account.name, "role": account.role}
        st.rerun()


def _logout() -> None:
    st.session_state.pop(USER, None)


def require(ctx: Context, page: str) -> None:
    """Stop a page its viewer may not open. The router lists only the pages of the
    viewer's role; this check holds even if a page were reached some other way."""
    try:
        users = auth.accounts(ctx.settings.dashboard.auth)
    except auth.AuthConfigError:
        st.stop()
    if users is None:
        return
    user = st.session_state.get(USER)
    account = users.get(user["name"]) if user is not None else None
    if account is None or not auth.can_open(account.role, page):
        st.error(f"You may not open the {page} page.")
        st.stop()
