"""Overview: what moves now — rankings, the newest signals of each kind, live arbitrage, 24h activity."""

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboards import queries
from dashboards.components import ago, money, polymarket_url
from dashboards.signal_types import SIGNAL_TYPES

st.title("Overview")

totals = queries.trades_24h()
live = queries.live_arbitrage()
cols = st.columns(4)
cols[0].metric("Trades, last 24 h", f"{int(totals['trades']):,}")
cols[1].metric("Volume, last 24 h", money(totals["volume_usdc"]))
cols[2].metric("Active wallets, last 24 h", f"{int(totals['wallets']):,}")
cols[3].metric("Live arbitrage windows", f"{len(live):,}")

left, right = st.columns([3, 2])
with left:
    st.subheader("Market rankings")
    rankings = queries.latest_rankings(25)
    if rankings.empty:
        st.info("No ranking has been materialized yet (asset `market_rankings`).")
    else:
        st.caption(f"Ranked {ago(rankings['ranked_at'].iloc[0])}")
        rankings["polymarket"] = [polymarket_url(s) for s in rankings["event_slug"]]
        st.dataframe(
            rankings[["rank", "score", "question", "volume_24h", "liquidity", "spread", "polymarket"]],
            hide_index=True,
            width="stretch",
            column_config={
                "polymarket": st.column_config.LinkColumn("Polymarket", display_text="open"),
                "volume_24h": st.column_config.NumberColumn("24h volume", format="dollar"),
                "liquidity": st.column_config.NumberColumn(format="dollar"),
            },
        )
with right:
    st.subheader("Live arbitrage")
    if live.empty:
        st.info("No arbitrage window is open.")
    else:
        live["opened"] = [ago(t) for t in live["opened_at"]]
        st.dataframe(
            live[["market", "kind", "peak_edge", "fillable_size", "opened"]], hide_index=True, width="stretch"
        )

    st.subheader("Source freshness")
    source, fresh = queries.freshness()
    st.caption(
        "From Dagster's materialization records."
        if source == "dagster"
        else "Dagster's storage is not reachable (DAGSTER_PG_URL): newest row of each table instead."
    )
    fresh["age"] = [ago(t) for t in fresh["last_update"]]
    st.dataframe(fresh[["asset", "last_update", "age"]], hide_index=True, width="stretch")

st.subheader("Latest signals")
since = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30)
for tab, kind in zip(st.tabs([k.label for k in SIGNAL_TYPES]), SIGNAL_TYPES, strict=True):
    with tab:
        rows = queries.signals(kind.table, since=since, suppressed="hide", limit=10)
        if rows.empty:
            st.info(f"No {kind.label.lower()} in the last 30 days.")
            continue
        show = [c for c in (kind.time_column, "market", "evidence_words") if c in rows.columns]
        st.dataframe(
            rows[show],
            hide_index=True,
            width="stretch",
            column_config={"evidence_words": st.column_config.TextColumn("Why it fired", width="large")},
        )
