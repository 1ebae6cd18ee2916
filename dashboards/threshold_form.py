"""The thresholds section of the alerts page: the catalogue, its overrides, validated edits, and a backtest of
an edit (current vs proposed over the last N days, scored) before it is saved."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import queries, scorecards
from dashboards.failures import show_failure
from pm_assets.signals import thresholds
from pm_sensors.alerts.sources import source_for

BACKTEST = "threshold_backtest"
FLASH = "threshold_flash"


def catalogue_frame(overrides: pd.DataFrame) -> pd.DataFrame:
    saved = {(r.signal_type, r.name): r.value for r in overrides.itertuples()}
    by = {(r.signal_type, r.name): r.updated_by for r in overrides.itertuples()}
    rows = []
    for signal_type, table in sorted(thresholds.catalogue().items()):
        for name, t in sorted(table.items()):
            rows.append(
                {
                    "signal": signal_type,
                    "threshold": name,
                    "default": t.default,
                    "environment": os.environ.get(t.env_var),
                    "override": saved.get((signal_type, name)),
                    "saved by": by.get((signal_type, name)),  # dashboard or launchpad: one store
                    "range": f"{'' if t.minimum is None else t.minimum} … {'' if t.maximum is None else t.maximum}",
                    "meaning": t.doc,
                }
            )
    return pd.DataFrame(rows)


def saved_overrides(overrides: pd.DataFrame, signal_type: str) -> dict[str, Any]:
    """The overrides the next run applies for this signal (the catalogue's names only), as stored."""
    known = thresholds.catalogue().get(signal_type, {})
    return {
        r.name: r.value for r in overrides.itertuples() if r.signal_type == signal_type and r.name in known
    }


EVERY_SIGNAL = "(every signal)"


def _rule_filters(rule_name: str, signal_type: str) -> dict[str, Any] | None:
    """The filters of the rule picked for the backtest (None: every signal); ValueError if it routes another type."""
    if rule_name == EVERY_SIGNAL:
        return None
    rules = queries.alert_rules()
    rule = rules[rules["name"] == rule_name].iloc[0]
    source, wanted = source_for(rule["signal_type"]), source_for(signal_type)
    if source is None or wanted is None or source.signal_type != wanted.signal_type:
        raise ValueError(f"rule {rule_name!r} sends {rule['signal_type']} signals, not {signal_type}")
    return dict(rule["filters"] or {})


def _run_backtest(
    overrides: pd.DataFrame, signal_type: str, name: str, raw: str, days: int, rule_name: str = EVERY_SIGNAL
) -> None:
    state = st.session_state
    state.pop(BACKTEST, None)
    try:
        value = thresholds.validate(signal_type, name, raw.strip())
    except thresholds.ThresholdError as exc:
        st.error(f"Not backtested: {exc}")
        return
    if signal_type not in scorecards.backtest_types():
        st.info(
            f"{signal_type} has no backtest yet (available for {', '.join(scorecards.backtest_types())}); "
            f"you can still save {name} = {value}."
        )
        return
    current = saved_overrides(overrides, signal_type)
    try:
        filters = _rule_filters(rule_name, signal_type)
        result = scorecards.backtest(signal_type, current, {**current, name: value}, int(days), filters)
    except (
        thresholds.ThresholdError,
        ValueError,
    ) as exc:  # a stored override no longer valid, a rule mismatch
        st.error(f"Not backtested: {exc}")
        return
    state[BACKTEST] = {"key": f"{signal_type}.{name}", "raw": raw.strip(), "result": result}


def render_backtest(result: Mapping[str, Any]) -> None:
    st.markdown(
        f"**Backtest of {result['signal_type']}, last {result['days']} days** "
        f"({result['from'][:16].replace('T', ' ')} to {result['to'][:16].replace('T', ' ')} UTC)"
        + (
            f", counting only what a rule with filters {result['filters']} would send"
            if result.get("filters")
            else ""
        )
    )
    left, right = st.columns(2)
    now = result["current"]
    for column, side, title in (
        (left, "current", "Current thresholds"),
        (right, "proposed", "Proposed thresholds"),
    ):
        figures = result[side]
        with column.container(border=True):
            st.markdown(f"**{title}**")
            for box, (label, field) in zip(
                st.columns([1, 1, 1.4]),
                (("Alerts", "alerts"), ("Markets", "markets"), ("Suppressed", "suppressed")),
                strict=True,
            ):
                delta = None if side == "current" else figures[field] - now[field]
                box.metric(f"{label} ({side})", f"{figures[field]:,}", delta=delta, delta_color="off")
            st.caption(f"Scorecard of the scored alerts: {figures['headline']}")
    comparison = scorecards.comparison_frame(result)
    st.dataframe(comparison, hide_index=True, width="stretch", height=35 * (len(comparison) + 1) + 3)


def render_what_if_runs() -> None:
    runs = queries.what_if_runs()
    if runs.empty:
        return
    st.markdown(
        "**What-if runs** (launched with `what_if: true`: evaluated under the thresholds shown, written to "
        "`signal_what_if`; the live tables and the saved thresholds are untouched)"
    )
    st.dataframe(runs, hide_index=True, width="stretch")


def render_thresholds() -> None:
    state = st.session_state
    if state.get(FLASH):
        st.success(state.pop(FLASH))
    overrides = queries.threshold_overrides()
    table = catalogue_frame(overrides)
    if table.empty:
        st.info("No signal has declared thresholds yet (pm_assets/signals/specs.py).")
        if not overrides.empty:
            st.dataframe(overrides, hide_index=True, width="stretch")
        return
    st.dataframe(table, hide_index=True, width="stretch")
    render_what_if_runs()
    keys = [f"{r.signal}.{r.threshold}" for r in table.itertuples()]
    with st.form("threshold_form"):
        key = st.selectbox("Threshold", keys)
        raw = st.text_input("New value")
        days = st.number_input("Backtest over the last N days", min_value=1, max_value=90, value=7, step=1)
        rule_names = [EVERY_SIGNAL, *queries.alert_rules()["name"].tolist()]
        rule_name = st.selectbox("Count only what this alert rule would send", rule_names)
        test, save, reset = st.columns(3)
        tested = test.form_submit_button("Backtest")
        saved = save.form_submit_button("Save override")
        removed = reset.form_submit_button("Remove override (back to default)")
    signal_type, name = key.split(".", 1)
    if tested:
        _run_backtest(overrides, signal_type, name, raw, int(days), rule_name)
    shown = state.get(BACKTEST)
    if shown and shown["key"] == key and shown["raw"] == raw.strip():
        render_backtest(shown["result"])
    if saved:
        try:
            value = thresholds.validate(signal_type, name, raw.strip())
        except thresholds.ThresholdError as exc:
            st.error(f"Not saved: {exc}")
        else:
            try:
                queries.save_override(signal_type, name, json.dumps(value, allow_nan=False), "dashboard")
            except Exception as exc:  # one masked line, never the statement's values
                show_failure("Saving the override", exc)
            else:
                state.pop(BACKTEST, None)
                state[FLASH] = f"{key} is now {value}; the next run of {signal_type} uses it."
                st.rerun()
    if removed:
        queries.delete_override(signal_type, name)
        state.pop(BACKTEST, None)
        state[FLASH] = f"{key} is back to its default."
        st.rerun()
