"""Signals: one explorer per signal table, evidence in words, suppressed rows with their reason, CSV export."""

import streamlit as st

from dashboards import queries, scorecards
from dashboards.components import api_export_hint, export_buttons, since_selector
from dashboards.signal_types import SIGNAL_TYPES

st.title("Signals")

SUPPRESSED = {"hide": "Alert-worthy only", "show": "Include suppressed", "only": "Suppressed only"}

for tab, kind in zip(st.tabs([k.label for k in SIGNAL_TYPES]), SIGNAL_TYPES, strict=True):
    with tab:
        c1, c2, c3 = st.columns([1, 1, 2])
        with c1:
            since = since_selector(key=f"{kind.table}_since", default="30 days")
        suppressed = c2.selectbox(
            "Suppressed", list(SUPPRESSED), format_func=SUPPRESSED.get, key=f"{kind.table}_suppressed"
        )
        text_filter = c3.text_input("Filter by market or words", key=f"{kind.table}_filter", max_chars=200)
        rows = queries.signals(kind.table, since=since, suppressed=suppressed, limit=1000)
        if not rows.empty and text_filter.strip():
            needle = text_filter.strip().lower()
            hay = rows["evidence_words"].str.lower() + " " + rows.get("market", "").fillna("").str.lower()
            rows = rows[hay.str.contains(needle, regex=False)]
        st.caption(f"{len(rows):,} {kind.label.lower()}")
        scored = scorecards.signal_headline(kind.table)
        if scored:
            st.caption(f"Scorecard of {kind.label.lower()}: {scored}")
        if rows.empty:
            st.info("Nothing matches.")
            continue
        first = [c for c in (kind.time_column, "market", "evidence_words", "suppressed_reason") if c in rows]
        ordered = rows[first + [c for c in rows.columns if c not in first]]
        st.dataframe(
            ordered,
            hide_index=True,
            width="stretch",
            column_config={"evidence_words": st.column_config.TextColumn("Why it fired", width="large")},
        )
        export_buttons(ordered, kind.table, kind.table)
        api_export_hint(f"/v1/signals/{kind.table}/export")
