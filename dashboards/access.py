"""An optional password gate for a dashboard exposed beyond localhost.

With PM_INTEL_DASHBOARD_PASSWORD set, every session must enter it once. Wrong attempts are rate-limited per
session: after MAX_FAILURES in a row the form locks for LOCKOUT_S seconds, doubling with each further lockout,
and says so; a locked form does not even check the password. For real user accounts use Streamlit's built-in
OIDC login instead (`st.login()` with an `[auth]` section in .streamlit/secrets.toml), or a reverse proxy.
"""

from __future__ import annotations

import hmac
import logging
import os
import time

import streamlit as st

log = logging.getLogger("pm_intel.dashboards")
MAX_FAILURES = 5
LOCKOUT_S = 60.0
_STATE = "pm_intel_login"


def require_password() -> None:
    """Stop the script run until the session has given the password (no-op when none is configured)."""
    expected = os.environ.get("PM_INTEL_DASHBOARD_PASSWORD", "")
    if not expected or st.session_state.get("pm_intel_authenticated"):
        return
    state = st.session_state.setdefault(_STATE, {"failures": 0, "lockouts": 0, "locked_until": 0.0})
    st.title("pm-intel")
    with st.form("login"):
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    wait = state["locked_until"] - time.monotonic()
    if wait > 0:
        st.error(f"Too many wrong passwords. Sign-in is locked for this session; try again in {wait:.0f} s.")
        st.stop()
    if submitted:
        if hmac.compare_digest(given.encode(), expected.encode()):
            st.session_state["pm_intel_authenticated"] = True
            st.session_state.pop(_STATE, None)
            st.rerun()
        state["failures"] += 1
        if state["failures"] >= MAX_FAILURES:
            lock = LOCKOUT_S * 2 ** state["lockouts"]
            state.update(failures=0, lockouts=state["lockouts"] + 1, locked_until=time.monotonic() + lock)
            log.warning("dashboard sign-in locked for %.0f s after %d wrong passwords", lock, MAX_FAILURES)
            st.error(
                f"Too many wrong passwords. Sign-in is locked for this session; try again in {lock:.0f} s."
            )
        else:
            st.error(f"Wrong password ({MAX_FAILURES - state['failures']} attempts left before a lockout).")
    st.stop()
