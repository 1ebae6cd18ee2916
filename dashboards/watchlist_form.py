"""One click on a wallet's page adds it to a watchlist (the first list preselected; a new name creates one)."""

from __future__ import annotations

import streamlit as st

from dashboards import watchlist_queries as wq
from dashboards.components import md_escape
from pm_assets.wallets.watchlists import Entry, check_name

NEW = "New list…"


def add_to_watchlist(address: str) -> None:
    lists = wq.watchlists()
    names = lists["name"].tolist() if not lists.empty else []
    on = set(wq.lists_of(address)) if names else set()
    cols = st.columns([3, 2, 1])
    choice = cols[0].selectbox("Watchlist", [*names, NEW], key="watchlist_pick", label_visibility="collapsed")
    new_name = (
        cols[1].text_input(
            "New list name", key="watchlist_new", label_visibility="collapsed", placeholder="new list name"
        )
        if choice == NEW
        else None
    )
    if cols[2].button("Add to watchlist", key="watchlist_add_wallet"):
        try:
            name = check_name(new_name or "") if choice == NEW else choice
        except ValueError as exc:
            st.error(str(exc))
            return
        saved = wq.save_wallets(name, None, [Entry(0, address, None, None)])
        st.cache_data.clear()
        st.success(f"Added to {md_escape(name)}." if saved.added else f"Already on {md_escape(name)}.")
        on.add(name)
    if on:
        st.caption("On watchlists: " + ", ".join(md_escape(n) for n in sorted(on)))
