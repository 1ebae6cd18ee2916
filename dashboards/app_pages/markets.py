"""Markets: a searchable, filterable table and one market's drilldown (prices, book, trades, holders)."""

import streamlit as st

from dashboards import queries
from dashboards.components import polymarket_url
from dashboards.market_drilldown import render_market

st.title("Markets")

with st.container(border=True):
    c1, c2, c3 = st.columns([3, 2, 2])
    term = c1.text_input("Search question, slug or condition id", max_chars=200)
    event = c2.text_input("Event", max_chars=200)
    tag = c3.selectbox("Tag", ["any"] + queries.tags())
    c4, c5, c6, c7 = st.columns(4)
    status = c4.radio("Status", ["active", "closed", "all"], horizontal=True)
    min_volume = c5.number_input("Min volume ($)", min_value=0.0, value=0.0, step=1000.0)
    min_liquidity = c6.number_input("Min liquidity ($)", min_value=0.0, value=0.0, step=1000.0)
    max_spread = c7.number_input("Max spread (0 = any)", min_value=0.0, max_value=1.0, value=0.0, step=0.01)

found = queries.search_markets(
    term, event, None if tag == "any" else tag, status, min_volume, min_liquidity, max_spread or None
)
st.caption(f"{len(found):,} markets shown (top 300 by volume)")
if found.empty:
    st.info("No markets match these filters.")
else:
    found["polymarket"] = [polymarket_url(s) for s in found["event_slug"]]
    st.dataframe(
        found.drop(columns=["event_slug"]),
        hide_index=True,
        width="stretch",
        column_config={
            "polymarket": st.column_config.LinkColumn("Polymarket", display_text="open"),
            "volume": st.column_config.NumberColumn(format="dollar"),
            "volume_24h": st.column_config.NumberColumn("24h volume", format="dollar"),
            "liquidity": st.column_config.NumberColumn(format="dollar"),
        },
    )

st.divider()
options = dict(zip(found["condition_id"], found["question"], strict=True)) if not found.empty else {}
wanted = st.query_params.get("market")
if wanted and wanted not in options and queries.market(wanted):
    options = {wanted: queries.market(wanted)["question"], **options}
if not options:
    st.stop()
ids = list(options)
chosen = st.selectbox(
    "Open a market",
    ids,
    index=ids.index(wanted) if wanted in ids else 0,
    format_func=lambda cid: options[cid],
)
if chosen != wanted:
    st.query_params["market"] = chosen
render_market(chosen)
