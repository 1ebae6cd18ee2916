"""Backtest before save: what current and proposed thresholds would have fired over the last N days, and
how those signals scored, side by side. Dagster-free (the dashboard calls `backtest`).

Both threshold sets run the signals' own pure evaluation (arbitrage.replay_windows, spikes.detect_spikes)
over the stored inputs, and their output is scored with the scorecard's own functions (scorecard.score_refs,
scorecard.aggregate), so a backtest and a live run cannot disagree about what fires or how it scores.
Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pm_assets.signals import thresholds as th
from pm_assets.signals.arbitrage import ArbitrageThresholds, window_evidence
from pm_assets.signals.market_inputs import replay_arbitrage, replay_spikes
from pm_assets.signals.scorecard import ScoreRecord, SignalRef, aggregate, headline, score_refs, signal_refs
from pm_assets.signals.spikes import SpikeThresholds

Fired = list[SignalRef]


def _arbitrage(conn: psycopg.Connection, values: Mapping[str, Any], start: datetime, end: datetime) -> Fired:
    t = ArbitrageThresholds.from_values(values)
    windows, _ = replay_arbitrage(conn, t, start, end)
    rows_out = [
        {
            "signal_key": w.signal_key,
            "condition_id": w.condition_id,
            "opened_at": w.opened_at,
            "closed_at": w.closed_at,
            "kind": w.kind,
            "peak_edge": w.peak.edge,
            "capturable_usdc": w.capturable_usdc,
            "suppressed_reason": w.suppressed_reason,
            "evidence": window_evidence(w, t),
        }
        for w in windows
    ]
    return signal_refs("arbitrage_windows", rows_out)


def _spikes(conn: psycopg.Connection, values: Mapping[str, Any], start: datetime, end: datetime) -> Fired:
    t = SpikeThresholds.from_values(values)
    spikes = replay_spikes(conn, t, start, end)
    rows = [
        {
            "signal_key": s.signal_key,
            "condition_id": s.condition_id,
            "token_id": s.token_id,
            "window_end": s.window_end,
            "move_points": s.move_points,
            "kind": s.kind,
            "suppressed_reason": s.suppressed_reason,
        }
        for s in spikes
    ]
    return signal_refs("price_spikes", rows)


EVALUATORS: dict[str, Callable[[psycopg.Connection, Mapping[str, Any], datetime, datetime], Fired]] = {
    "arbitrage": _arbitrage,
    "price_spike": _spikes,
}


def backtest_types() -> list[str]:
    """Signal types whose spec says they are backtested (each has an evaluator here)."""
    from pm_assets.signals.specs import SIGNALS

    return [s.signal_type for s in SIGNALS if s.backtest]


def backtest_thresholds(signal_type: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The signal's defaults (documented, then PM_INTEL_<NAME>) overlaid with `raw`, each validated
    (ThresholdError names the bad one)."""
    if signal_type not in backtest_types():
        raise th.ThresholdError(
            f"no backtest for {signal_type!r}; available: {', '.join(sorted(backtest_types()))}"
        )
    values = {name: th.default_value(signal_type, name) for name in th.catalogue()[signal_type]}
    values.update({name: th.validate(signal_type, name, value) for name, value in raw.items()})
    return values


def _side(
    conn: psycopg.Connection,
    signal_type: str,
    values: dict[str, Any],
    start: datetime,
    end: datetime,
    stake: float,
    horizon: str,
    filters: Mapping[str, Any] | None,
) -> dict[str, Any]:
    fired = _matching(conn, signal_type, EVALUATORS[signal_type](conn, values, start, end), filters)
    alerts = [r for r in fired if not r.suppressed]
    scored = score_refs(conn, alerts, stake, end)
    records = [
        ScoreRecord(
            r["condition_id"],
            r["signal_key"],
            r["horizon"],
            r["correct"],
            r["paper_profit"],
            r["move_in_direction"],
            stake,
        )
        for r in scored
    ]
    figures = aggregate(records)
    return {
        "thresholds": values,
        "fired": len(fired),
        "alerts": len(alerts),
        "suppressed": len(fired) - len(alerts),
        "markets": len({r.condition_id for r in alerts}),
        "figures": figures,
        "headline": headline(figures, horizon),
    }


def _matching(
    conn: psycopg.Connection, signal_type: str, fired: Fired, filters: Mapping[str, Any] | None
) -> Fired:
    """The signals an alert rule with these filters would have sent (all of them without filters)."""
    if not filters:
        return fired
    from pm_sensors.alerts.categories import attach_categories
    from pm_sensors.alerts.filters import filters_match, needs_category, validate_filters
    from pm_sensors.alerts.sources import source_for

    source = source_for(signal_type)
    if source is None:
        return fired
    clean = validate_filters(signal_type, filters)
    rows = [dict(r.row) for r in fired]
    if needs_category(clean):
        attach_categories(conn, rows)
    return [r for r, row in zip(fired, rows, strict=True) if filters_match(clean, row, source)]


def backtest(
    conn: psycopg.Connection,
    signal_type: str,
    current: Mapping[str, Any],
    proposed: Mapping[str, Any],
    days: int,
    *,
    now: datetime | None = None,
    stake: float = 100.0,
    horizon: str = "24h",
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """{'current': ..., 'proposed': ...}: each side's thresholds, counts, scorecard figures and headline.

    With an alert rule's `filters`, only the signals that rule would have sent count (AlertFilterError if
    they do not validate)."""
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    cur_values = backtest_thresholds(signal_type, current)
    new_values = backtest_thresholds(signal_type, proposed)
    return {
        "signal_type": signal_type,
        "days": days,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "current": _side(conn, signal_type, cur_values, start, end, stake, horizon, filters),
        "proposed": _side(conn, signal_type, new_values, start, end, stake, horizon, filters),
        "changed": sorted(k for k in new_values if new_values[k] != cur_values[k]),
        "filters": dict(filters or {}),
    }
