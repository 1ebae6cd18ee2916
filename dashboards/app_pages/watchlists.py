"""Watchlists: named lists of wallets (pasted or uploaded), each wallet's activity and P&L, and their signals."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from dashboards import watchlist_queries as wq
from dashboards.components import md_escape
from pm_assets.signals.watched_wallets import SPEC as WATCHED
from pm_assets.wallets.watchlists import check_name, parse_wallet_list

WATCHED_LABEL = WATCHED.label
st.title("Watchlists")
st.caption(
    "A trade by a listed wallet (or a position reaching the list's size) is a `watched_wallet` signal: "
    "route it with an alert rule of that type on the Alerts page."
)

with st.form("watchlist_add", clear_on_submit=False):
    st.subheader("Create a list or add wallets to one")
    name = st.text_input("Watchlist name", max_chars=200, help="An existing name adds to that list.")
    size = st.number_input(
        "Alert on positions of at least (USDC; 0 = any trade; empty = the signal's threshold)",
        min_value=0.0,
        max_value=1e12,
        value=None,
        step=100.0,
    )
    pasted = st.text_area(
        "Wallets, one a line: address, label, note (label and note optional)",
        height=160,
        placeholder="0xabc…,whale,bought early in every election market",
    )
    upload = st.file_uploader("…or upload a CSV (address, label, note)", type=["csv", "txt"])
    submitted = st.form_submit_button("Save wallets")

if submitted:
    text = pasted or ""
    if upload is not None:
        try:
            text = (text + "\n" if text else "") + upload.getvalue().decode("utf-8-sig")
        except UnicodeDecodeError:
            st.error("The uploaded file is not UTF-8 text; nothing was saved.")
            st.stop()
    try:
        list_name = check_name(name)
    except ValueError as exc:
        st.error(f"{exc}; nothing was saved.")
        st.stop()
    parsed = parse_wallet_list(text)
    if not parsed.entries and not parsed.problems:
        st.error("No wallets given; nothing was saved.")
        st.stop()
    saved = wq.save_wallets(list_name, size, parsed.entries)
    st.cache_data.clear()
    verb = "Created" if saved.created else "Updated"
    st.success(
        f"{verb} watchlist {md_escape(list_name)}: {len(saved.added)} wallet(s) added"
        + (
            f", {len(saved.already)} already on it (label and note updated where given)"
            if saved.already
            else ""
        )
        + "."
    )
    line_of = {e.wallet: e.line for e in parsed.entries}
    problems = [{"line": p.line, "text": p.text, "reason": p.reason} for p in parsed.problems] + [
        {"line": line_of[w], "text": w, "reason": f"already on {list_name}"} for w in saved.already
    ]
    if parsed.problems:
        st.warning(
            f"{len(parsed.problems)} line(s) not added; fix them and save again (the others are saved):"
        )
    if problems:
        st.dataframe(pd.DataFrame(problems).sort_values("line"), hide_index=True, width="stretch")

lists = wq.watchlists()
if lists.empty:
    st.info("No watchlists yet: paste wallets above, or use “Add to watchlist” on a wallet's page.")
    st.stop()

st.divider()
names = lists["name"].tolist()
wanted = st.query_params.get("list")
chosen = st.selectbox("Watchlist", names, index=names.index(wanted) if wanted in names else 0)
if st.query_params.get("list") != chosen:
    st.query_params["list"] = chosen
row = lists[lists["name"] == chosen].iloc[0]
watchlist_id = int(row["watchlist_id"])
size_value = row["min_position_usdc"]
c = st.columns(3)
c[0].metric("Wallets", f"{int(row['wallets']):,}")
c[1].metric(
    "Alerts on",
    "the threshold"
    if pd.isna(size_value)
    else ("any trade" if size_value == 0 else f"${size_value:,.0f}+ positions"),
)

wallets = wq.members(watchlist_id)
c[2].metric("Watched-wallet alerts", f"{int(wallets['watch_alerts'].sum()) if not wallets.empty else 0:,}")
st.subheader("Wallets")
st.caption(
    "P&L by average cost from the stored trades; open positions marked at the latest price "
    "(a resolved outcome at 1 or 0)."
)
money = st.column_config.NumberColumn(format="dollar")
st.dataframe(
    wallets,
    hide_index=True,
    width="stretch",
    column_config={"realised_pnl": money, "unrealised_pnl": money, "open_value": money},
)

with st.expander("Remove a wallet from this list"):
    if not wallets.empty:
        gone = st.selectbox("Wallet", wallets["wallet"].tolist(), key="remove_wallet")
        if st.button("Remove from list"):
            wq.remove_wallet(watchlist_id, gone)
            st.cache_data.clear()
            st.rerun()

st.subheader("Recent trades")
trades = wq.list_trades(watchlist_id)
if trades.empty:
    st.info("No stored trades by this list's wallets yet.")
else:
    st.dataframe(trades, hide_index=True, width="stretch", column_config={"usdc_size": money})

st.subheader("Signals they triggered")
since = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=365 * 5)
signals = wq.list_signals(watchlist_id, since)
latest = signals.get(WATCHED_LABEL)
if latest is not None and not latest.empty:
    alerts = latest[latest["suppressed_reason"].isna()].head(5)
    # Outcome names and labels are upstream or user text: escaped, never read as Markdown.
    st.markdown(
        "\n".join(f"- {r.at:%Y-%m-%d %H:%M} UTC: {md_escape(r.evidence_words)}" for r in alerts.itertuples())
    )
for label, rows in signals.items():
    st.markdown(f"**{label}**: {len(rows)}")
    if not rows.empty:
        show = [
            c for c in ("at", "wallet", "market", "evidence_words", "suppressed_reason") if c in rows.columns
        ]
        st.dataframe(rows[show], hide_index=True, width="stretch")
