"""Arbitrage: open and past windows, how long they last, how big the edge, how much could be filled."""

import plotly.express as px
import streamlit as st

from dashboards import queries
from dashboards.components import since_selector

st.title("Arbitrage")

c1, c2 = st.columns(2)
with c1:
    since = since_selector(default="30 days", key="arb_since")
state = c2.radio("Windows", ["all", "open", "closed"], horizontal=True)
windows = queries.arbitrage_windows(since, state)
open_now = windows[windows["closed_at"].isna()] if not windows.empty else windows
m = st.columns(4)
m[0].metric("Windows", f"{len(windows):,}")
m[1].metric("Open now", f"{len(open_now):,}")
m[2].metric(
    "Median duration",
    "—" if windows["duration_s"].dropna().empty else f"{windows['duration_s'].median():.0f} s",
)
m[3].metric("Fillable at peak edge", f"${windows['fillable_size'].fillna(0).sum():,.0f}")
if windows.empty:
    st.info("No arbitrage windows in this period.")
    st.stop()

st.subheader("Open windows")
if open_now.empty:
    st.info("None open.")
else:
    st.dataframe(open_now, hide_index=True, width="stretch")

left, right = st.columns(2)
closed = windows.dropna(subset=["duration_s"])
with left:
    st.subheader("Duration")
    if not closed.empty:
        st.plotly_chart(
            px.histogram(closed, x="duration_s", nbins=30, labels={"duration_s": "seconds"}), width="stretch"
        )
with right:
    st.subheader("Peak edge")
    st.plotly_chart(px.histogram(windows, x="peak_edge", nbins=30, color="kind"), width="stretch")

st.subheader("All windows")
st.dataframe(
    windows,
    hide_index=True,
    width="stretch",
    column_config={"fillable_size": st.column_config.NumberColumn("fillable ($)", format="dollar")},
)
