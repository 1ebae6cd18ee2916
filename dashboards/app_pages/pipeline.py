"""Pipeline health: asset freshness, Dagster runs and failures, stream health and gaps, rate limits, heartbeats."""

import streamlit as st

from dashboards import queries
from dashboards.components import ago, dagster_asset_url, since_selector

st.title("Pipeline health")

source, fresh = queries.freshness()
st.subheader("Asset freshness")
st.caption(
    "From Dagster's materialization records."
    if source == "dagster"
    else "Dagster's storage is not reachable (set DAGSTER_PG_URL): newest row of each table instead."
)
fresh["age"] = [ago(t) for t in fresh["last_update"]]
fresh["dagster"] = [dagster_asset_url(a) for a in fresh["asset"]]
st.dataframe(
    fresh,
    hide_index=True,
    width="stretch",
    column_config={"dagster": st.column_config.LinkColumn("Dagster UI", display_text="open")},
)

st.subheader("Recent runs")
runs = queries.dagster_runs()
if runs is None:
    st.info("Dagster's run storage is not reachable (DAGSTER_PG_URL unset or down); see the Dagster UI.")
else:
    failures = runs[runs["status"] == "FAILURE"]
    st.caption(f"{len(runs)} most recent runs, {len(failures)} failed")
    if not failures.empty:
        st.error(f"{len(failures)} failed run(s): " + ", ".join(failures["job"].astype(str).unique()))
    st.dataframe(runs, hide_index=True, width="stretch")

since = since_selector(default="24 hours", key="pipeline_since")
st.subheader("Heartbeats")
beats = queries.heartbeats()
if beats.empty:
    st.info("No long-running part has reported a heartbeat.")
else:
    beats["last beat"] = [ago(t) for t in beats["last_beat_at"]]
    st.dataframe(beats.drop(columns=["age"]), hide_index=True, width="stretch")

st.subheader("Websocket stream")
stream = queries.stream_health(since)
gaps = stream[stream["event"] == "gap"] if not stream.empty else stream
c = st.columns(3)
c[0].metric("Stream events", f"{len(stream):,}")
c[1].metric("Gaps", f"{len(gaps):,}")
stats = stream[stream["event"] == "stats"] if not stream.empty else stream
c[2].metric("Lag p99 (latest)", "—" if stats.empty else f"{stats['lag_ms_p99'].iloc[0]:.0f} ms")
if not gaps.empty:
    st.warning("Gaps in the stream (no data was received in these intervals):")
    st.dataframe(gaps, hide_index=True, width="stretch")
st.dataframe(stream, hide_index=True, width="stretch")

st.subheader("Rate limiting")
limits = queries.rate_limits(since)
if limits.empty:
    st.info("No 429 (rate limited) responses recorded in raw_payloads in this window.")
else:
    st.dataframe(limits, hide_index=True, width="stretch")

st.subheader("Trade feed loss events")
losses = queries.trade_loss_events()
if losses.empty:
    st.info("No trade loss events recorded.")
else:
    st.dataframe(losses, hide_index=True, width="stretch")
