"""pm-intel dashboards: the router (st.navigation over one st.Page per file in app_pages/)."""

from pathlib import Path

import streamlit as st

from dashboards.access import require_password
from dashboards.failures import debug_mode, show_failure

PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="pm-intel", layout="wide")
if not debug_mode():
    # An uncaught error's details (statements, values, paths) never reach the browser; see failures.py.
    st.set_option("client.showErrorDetails", "none")
require_password()
page = st.navigation(
    {
        "Markets": [
            st.Page(PAGES / "overview.py", title="Overview", url_path="overview", default=True),
            st.Page(PAGES / "markets.py", title="Markets", url_path="markets"),
            st.Page(PAGES / "wallets.py", title="Wallets", url_path="wallets"),
            st.Page(PAGES / "watchlists.py", title="Watchlists", url_path="watchlists"),
            st.Page(PAGES / "resolution.py", title="Nearing resolution", url_path="resolution"),
        ],
        "Signals": [
            st.Page(PAGES / "signals.py", title="Signals", url_path="signals"),
            st.Page(PAGES / "arbitrage.py", title="Arbitrage", url_path="arbitrage"),
        ],
        "Operations": [
            st.Page(PAGES / "alerts.py", title="Alerts and thresholds", url_path="alerts"),
            st.Page(PAGES / "pipeline.py", title="Pipeline health", url_path="pipeline"),
            st.Page(PAGES / "status.py", title="Status", url_path="status"),
        ],
    }
)
if st.sidebar.button("Refresh", help="Clear cached query results and reload from the warehouse"):
    st.cache_data.clear()
if debug_mode():
    page.run()
else:
    try:
        page.run()
    except Exception as exc:  # st.stop / st.rerun are BaseExceptions and pass through
        show_failure("This page", exc)
