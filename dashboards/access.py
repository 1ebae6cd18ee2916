"""An optional password gate for a dashboard exposed beyond localhost.

With PM_INTEL_DASHBOARD_PASSWORD set, every session must enter it once. For real user accounts use
Streamlit's built-in OIDC login instead (`st.login()` with an `[auth]` section in .streamlit/secrets.toml).
"""

from __future__ import annotations

import hmac
import os

import streamlit as st


def require_password() -> None:
    """Stop the script run until the session has given the password (no-op when none is configured)."""
    expected = os.environ.get("PM_INTEL_DASHBOARD_PASSWORD", "")
    if not expected or st.session_state.get("pm_intel_authenticated"):
        return
    st.title("pm-intel")
    with st.form("login"):
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if hmac.compare_digest(given.encode(), expected.encode()):
            st.session_state["pm_intel_authenticated"] = True
            st.rerun()
        st.error("Wrong password.")
    st.stop()
