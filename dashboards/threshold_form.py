"""The thresholds section of the alerts page: the catalogue, its overrides, and validated edits."""

from __future__ import annotations

import json
import os

import pandas as pd
import streamlit as st

import pm_assets.signals.catalogue  # noqa: F401 - importing it registers every signal's thresholds
from dashboards import queries
from pm_assets.signals import thresholds


def catalogue_frame(overrides: pd.DataFrame) -> pd.DataFrame:
    saved = {(r.signal_type, r.name): r.value for r in overrides.itertuples()}
    rows = []
    for signal_type, table in sorted(thresholds.catalogue().items()):
        for name, t in sorted(table.items()):
            rows.append({"signal": signal_type, "threshold": name, "default": t.default,
                         "environment": os.environ.get(t.env_var), "override": saved.get((signal_type, name)),
                         "range": f"{'' if t.minimum is None else t.minimum} … {'' if t.maximum is None else t.maximum}",
                         "meaning": t.doc})
    return pd.DataFrame(rows)


def render_thresholds() -> None:
    overrides = queries.threshold_overrides()
    table = catalogue_frame(overrides)
    if table.empty:
        st.info("No signal has declared thresholds yet (pm_assets/signals/catalogue.py).")
        if not overrides.empty:
            st.dataframe(overrides, hide_index=True, width="stretch")
        return
    st.dataframe(table, hide_index=True, width="stretch")
    keys = [f"{r.signal}.{r.threshold}" for r in table.itertuples()]
    with st.form("threshold_form"):
        key = st.selectbox("Threshold", keys)
        raw = st.text_input("New value")
        save, reset = st.columns(2)
        saved = save.form_submit_button("Save override")
        removed = reset.form_submit_button("Remove override (back to default)")
    signal_type, name = key.split(".", 1)
    if saved:
        try:
            value = thresholds.validate(signal_type, name, raw.strip())
        except thresholds.ThresholdError as exc:
            st.error(f"Not saved: {exc}")
        else:
            queries.save_override(signal_type, name, json.dumps(value), "dashboard")
            st.success(f"{key} is now {value}; the next run of {signal_type} uses it.")
            st.rerun()
    if removed:
        queries.delete_override(signal_type, name)
        st.success(f"{key} is back to its default.")
        st.rerun()
