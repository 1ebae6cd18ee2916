"""One market in depth: price history with its signals marked, book depth, trades, holders, signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import queries
from dashboards.components import (
    api_export_hint,
    dagster_asset_url,
    export_buttons,
    md_escape,
    money,
    polymarket_url,
    short_wallet,
)
from dashboards.signal_types import SIGNAL_TYPES


def ladder(levels) -> pd.DataFrame:
    """A book side as (price, size) rows, whether levels are {"price","size"} objects or [price, size] pairs."""
    rows = []
    for level in levels or []:
        price, size = (level.get("price"), level.get("size")) if isinstance(level, dict) else level[:2]
        rows.append((float(price), float(size)))
    return pd.DataFrame(rows, columns=["price", "size"])


def depth_figure(book: dict) -> go.Figure:
    bids = ladder(book["bids"]).sort_values("price", ascending=False)
    asks = ladder(book["asks"]).sort_values("price")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=bids["price"],
            y=bids["size"].cumsum(),
            name="bids",
            line_shape="hv",
            fill="tozeroy",
            line_color="#2e7d32",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=asks["price"],
            y=asks["size"].cumsum(),
            name="asks",
            line_shape="hv",
            fill="tozeroy",
            line_color="#c62828",
        )
    )
    fig.update_layout(
        xaxis_title="price", yaxis_title="cumulative size (shares)", height=320, margin={"t": 10, "b": 10}
    )
    return fig


def price_figure(prices: pd.DataFrame, marks: list[tuple[str, pd.DataFrame, str]]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=prices["ts"], y=prices["price"], name="price", line_color="#1565c0"))
    for label, rows, time_col in marks:
        if rows.empty:
            continue
        at = pd.to_datetime(rows[time_col])
        # Mark each signal on the price curve at its time (nearest earlier price point).
        y = pd.merge_asof(pd.DataFrame({"ts": at}).sort_values("ts"), prices.sort_values("ts"), on="ts")[
            "price"
        ]
        fig.add_trace(
            go.Scatter(
                x=at.sort_values(),
                y=y,
                mode="markers",
                name=label,
                marker={"size": 12, "symbol": "diamond"},
                text=rows["evidence_words"],
                hoverinfo="text+x",
            )
        )
    fig.update_layout(yaxis_title="price", yaxis_range=[0, 1], height=360, margin={"t": 10, "b": 10})
    return fig


def render_market(condition_id: str) -> None:
    market = queries.market(condition_id)
    if market is None:
        st.warning("No market with that condition id.")
        return
    st.header(md_escape(market["question"] or condition_id))
    url = polymarket_url(market.get("event_slug"))
    status = "closed" if market.get("closed") else "active" if market.get("active") else "inactive"
    st.markdown(
        f"{md_escape(market.get('event_title'))} · {md_escape(market['version'])} · {status}"
        + (f" · [open on Polymarket]({url})" if url else "")
    )
    links = " · ".join(
        f"[{key}]({dagster_asset_url(key)})"
        for key in ("markets", "trades", "order_book_snapshots", "price_points")
    )
    st.caption(f"condition id `{condition_id}` · in Dagster: {links}")
    c = st.columns(4)
    c[0].metric("Volume", money(market.get("volume")))
    c[1].metric("24h volume", money(market.get("volume_24h")))
    c[2].metric("Liquidity", money(market.get("liquidity")))
    spread = market.get("spread")
    c[3].metric("Spread", "—" if spread is None or spread != spread else f"{spread:.3f}")

    tokens = queries.market_tokens(condition_id)
    if tokens.empty:
        st.info("No outcome tokens stored for this market.")
        return
    outcome = st.radio(
        "Outcome", tokens["outcome"].tolist(), horizontal=True, key="drill_outcome", format_func=md_escape
    )
    token_id = tokens.loc[tokens["outcome"] == outcome, "token_id"].iloc[0]

    since = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30)
    signals = {
        k.table: queries.signals(k.table, since=since - timedelta(days=335), condition_id=condition_id)
        for k in SIGNAL_TYPES
        if k.has_market
    }
    prices = queries.price_history(token_id, since)
    st.subheader("Price, last 30 days")
    if prices.empty:
        st.info("No price history stored for this outcome.")
    else:
        marks = [(k.label, signals[k.table], k.time_column) for k in SIGNAL_TYPES if k.table in signals]
        st.plotly_chart(price_figure(prices, marks), width="stretch")

    left, right = st.columns(2)
    with left:
        st.subheader("Order book depth")
        book = queries.latest_book(token_id)
        if book is None:
            st.info("No book snapshot stored for this outcome.")
        else:
            st.caption(f"Snapshot at {book['captured_at']:%Y-%m-%d %H:%M:%S} UTC")
            st.plotly_chart(depth_figure(book), width="stretch")
    with right:
        st.subheader("Top holders")
        holders = queries.top_holders(condition_id)
        if holders.empty:
            st.info("No net long positions from the stored trades.")
        else:
            holders.insert(0, "holder", [short_wallet(w) for w in holders["wallet"]])
            st.dataframe(holders, hide_index=True, width="stretch")

    st.subheader("Daily volume")
    daily = queries.market_daily_volume(condition_id)
    if not daily.empty:
        st.bar_chart(daily, x="day", y="volume_usdc", height=220)
    st.subheader("Recent trades")
    trades = queries.market_trades(condition_id)
    st.dataframe(trades, hide_index=True, width="stretch")
    if not trades.empty:
        export_buttons(trades, f"trades_{condition_id[:12]}", "market_trades")
        api_export_hint(f"/v1/markets/{condition_id}/trades/export")

    st.subheader("Signals on this market")
    for kind in SIGNAL_TYPES:
        rows = signals.get(kind.table)
        if rows is None or rows.empty:
            continue
        st.markdown(f"**{kind.label}**")
        show = [c for c in (kind.time_column, "evidence_words", "suppressed_reason") if c in rows.columns]
        st.dataframe(rows[show], hide_index=True, width="stretch")
