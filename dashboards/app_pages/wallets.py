"""Wallets: ranked by volume, novelty or signal count; one wallet's history, positions and signal record."""

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboards import queries
from dashboards.components import ago, api_export_hint, export_buttons, money
from dashboards.signal_types import SIGNAL_TYPES
from dashboards.watchlist_form import add_to_watchlist

st.title("Wallets")

ORDERS = {"volume": "Volume", "novelty": "Newest first activity", "signals": "Signal count"}
order = st.radio("Rank by", list(ORDERS), format_func=ORDERS.get, horizontal=True)
ranked = queries.wallets_ranked(order, 100)
if ranked.empty:
    st.info("No wallets stored yet.")
    st.stop()
st.dataframe(
    ranked,
    hide_index=True,
    width="stretch",
    column_config={"volume_usdc": st.column_config.NumberColumn("volume", format="dollar")},
)

st.divider()
if "wallet_typed" not in st.session_state:
    st.session_state["wallet_typed"] = st.query_params.get("wallet", "")
typed = st.text_input("Open a wallet (0x… address)", key="wallet_typed", max_chars=42)
address = typed.strip().lower()
if not address:
    address = st.selectbox("…or pick one from the ranking", ranked["wallet"].tolist())
elif (
    len(address) != 42
    or not address.startswith("0x")
    or not all(ch in "0123456789abcdef" for ch in address[2:])
):
    st.error("A wallet address is 0x followed by 40 hexadecimal characters.")
    st.stop()
if st.query_params.get("wallet") != address:
    st.query_params["wallet"] = address

info = queries.wallet(address)
if info is None:
    st.warning(f"No wallet {address} in the warehouse.")
    st.stop()
st.header(address)
c = st.columns(4)
first = info.get("first_activity_at")
c[0].metric("First activity", "unknown" if first is None or first != first else f"{first:%Y-%m-%d %H:%M}")
c[1].metric("Age", ago(first))
c[2].metric("Trades", f"{int(info['trade_count']):,}")
c[3].metric("Volume", money(info["volume_usdc"]))
add_to_watchlist(address)

st.subheader("Positions by market")
st.dataframe(queries.wallet_positions(address), hide_index=True, width="stretch")
st.subheader("Trade history")
history = queries.wallet_trades(address)
st.dataframe(history, hide_index=True, width="stretch")
if not history.empty:
    export_buttons(history, f"trades_{address}", "wallet_trades")
    api_export_hint(f"/v1/wallets/{address}/trades/export")

st.subheader("Signals this wallet triggered")
since = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=365 * 5)
for kind in (k for k in SIGNAL_TYPES if k.has_wallet):
    rows = queries.signals(kind.table, since=since, wallet=address)
    st.markdown(f"**{kind.label}**: {len(rows)}")
    if not rows.empty:
        show = [
            c
            for c in (kind.time_column, "market", "evidence_words", "suppressed_reason")
            if c in rows.columns
        ]
        st.dataframe(rows[show], hide_index=True, width="stretch")
st.subheader("How its signals scored after resolution")
scores = queries.wallet_scorecard(address)
if scores.empty:
    st.info("None of this wallet's signals has been scored yet (markets still open).")
else:
    scored = scores["correct"].notna()
    st.caption(
        f"{int(scores.loc[scored, 'correct'].sum())} of {int(scored.sum())} scored signals were right."
    )
    st.dataframe(scores, hide_index=True, width="stretch")
