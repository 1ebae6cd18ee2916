"""Markets nearing resolution: open markets ending soon and markets whose resolution is in flight (UMA status
from the resolutions data), with price, 24 h volume and move, liquidity and the signals on them in 24 h."""

import pandas as pd
import streamlit as st

from dashboards import db
from dashboards.resolution_queries import nearing_resolution

WINDOWS = {"6 hours": 6, "24 hours": 24, "3 days": 72, "7 days": 168, "30 days": 720}


@st.cache_data(ttl=60, show_spinner=False)
def _rows(within_hours: float, in_flight: bool) -> pd.DataFrame:
    with db.reader().connect() as c:
        return pd.DataFrame(
            nearing_resolution(c.connection.driver_connection, within_hours, in_flight=in_flight)
        )


st.title("Markets nearing resolution")
c1, c2 = st.columns(2)
window = c1.selectbox("Ends within", list(WINDOWS), index=2, key="resolution_window")
in_flight = c2.checkbox("Also markets whose resolution is proposed, disputed or in review", value=True)
rows = _rows(WINDOWS[window], in_flight)
if rows.empty:
    st.info(f"No open market ends within {window}" + (" and none is being resolved." if in_flight else "."))
    st.stop()
m = st.columns(3)
m[0].metric("Markets", f"{len(rows):,}")
m[1].metric("Being resolved", f"{int((rows['hours_to_end'] < 0).sum()):,}")
m[2].metric("With signals in 24 h", f"{int((rows['signals_24h'] > 0).sum()):,}")
st.dataframe(
    rows[
        [
            "question",
            "event_title",
            "end_date",
            "hours_to_end",
            "price",
            "move_24h",
            "volume_24h",
            "liquidity",
            "uma_status",
            "signals_24h",
            "signal_types",
            "tags",
            "condition_id",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "question": st.column_config.TextColumn("Question", width="large"),
        "event_title": "Event",
        "end_date": st.column_config.DatetimeColumn("Ends (UTC)", format="YYYY-MM-DD HH:mm"),
        "uma_status": "UMA status",
        "signal_types": "Signal types",
        "tags": "Tags",
        "hours_to_end": st.column_config.NumberColumn("Hours to end", format="%.1f"),
        "price": st.column_config.NumberColumn("YES price", format="%.3f"),
        "move_24h": st.column_config.NumberColumn("24 h move", format="%+.3f"),
        "volume_24h": st.column_config.NumberColumn("24 h volume", format="$%.0f"),
        "liquidity": st.column_config.NumberColumn("Liquidity", format="$%.0f"),
        "signals_24h": st.column_config.NumberColumn("Signals (24 h)"),
    },
)
