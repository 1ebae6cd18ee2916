"""The signal scorecard and the threshold backtest as the dashboards show them, cached for 60 s.

Both are computed by pm_assets (scorecard.scorecard_summary, backtest.backtest; Dagster-free) over the
reader's psycopg connection, so a page and a live run cannot disagree about what fires or how it scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import db
from pm_assets.signals import backtest as bt
from pm_assets.signals.scorecard import scorecard_summary

HORIZON = "24h"


@st.cache_data(ttl=60, show_spinner=False)
def summary(days: int | None = None, horizon: str = HORIZON) -> dict[str, Any]:
    with db.reader().connect() as c:
        return scorecard_summary(c.connection.driver_connection, days=days, horizon=horizon)


def rule_headlines() -> dict[int, str]:
    """rule_id -> what the rule's filters would have sent, scored ('212 alerts in 64 markets, right ...')."""
    return {int(r["rule_id"]): r["headline"] for r in summary()["by_rule"]}


def signal_headline(table: str) -> str | None:
    entry = summary()["by_signal"].get(table)
    return None if entry is None else entry["headline"]


def backtest_types() -> list[str]:
    return sorted(bt.backtest_types())


@st.cache_data(ttl=60, show_spinner="Replaying the last days with both threshold sets…")
def backtest(
    signal_type: str,
    current: Mapping[str, Any],
    proposed: Mapping[str, Any],
    days: int,
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """bt.backtest over the reader (nothing is written); ThresholdError names a bad value or type. With an alert
    rule's `filters`, only what that rule would have sent counts."""
    with db.reader().connect() as c:
        return bt.backtest(
            c.connection.driver_connection,
            signal_type,
            dict(current),
            dict(proposed),
            days,
            filters=dict(filters) if filters else None,
        )


def _rate(figure: Mapping[str, Any] | None) -> str:
    if not figure:
        return "–"
    return f"{100 * figure['rate']:.0f}% [{100 * figure['low']:.0f}-{100 * figure['high']:.0f}]"


def _profit(figure: Mapping[str, Any] | None) -> str:
    if not figure:
        return "–"
    low, high = figure.get("low"), figure.get("high")
    interval = "" if low is None or high is None else f" [{low:+.1f} to {high:+.1f}]"
    return f"{figure['mean']:+.1f}%{interval}"


def comparison_frame(result: Mapping[str, Any]) -> pd.DataFrame:
    """One row per measure, the current and proposed sides as columns (figures as the scorecard words them)."""
    sides = {"current": result["current"], "proposed": result["proposed"]}
    rows: list[dict[str, Any]] = []

    def add(measure: str, value) -> None:
        rows.append({"measure": measure, **{name: value(side) for name, side in sides.items()}})

    for name in result.get("changed", []):
        add(f"threshold {name}", lambda s, n=name: str(s["thresholds"][n]))
    add("signals fired", lambda s: str(s["fired"]))
    add("alerts (not suppressed)", lambda s: str(s["alerts"]))
    add("suppressed", lambda s: str(s["suppressed"]))
    add("markets alerted", lambda s: str(s["markets"]))
    for horizon, label in (("1h", "1 h"), ("24h", "24 h"), ("settlement", "settlement")):
        add(f"scored at {label}", lambda s, h=horizon: str((s["figures"].get(h) or {}).get("alerts", 0)))
        add(
            f"moved their way at {label}",
            lambda s, h=horizon: _rate((s["figures"].get(h) or {}).get("moved_in_direction")),
        )
        add(
            f"profit per alert at {label} after fees",
            lambda s, h=horizon: _profit((s["figures"].get(h) or {}).get("profit_pct_per_alert")),
        )
    add("right once resolved", lambda s: _rate((s["figures"].get("settlement") or {}).get("hit_rate")))
    return pd.DataFrame(rows)
