"""Evidence in words: the summary when a signal wrote one, else sentences composed from its columns."""

from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboards.signal_types import BY_TABLE, SIGNAL_TYPES, duration_words


def test_fresh_wallet_words():
    row = {
        "usdc_size": 48200.0,
        "side": "BUY",
        "outcome": "YES",
        "price": 0.12,
        "wallet_age_hours": 3.0,
        "prior_trade_count": 2,
        "evidence": {"thresholds": {}},
    }
    assert BY_TABLE["fresh_wallet_trades"].evidence_words(row) == (
        "wallet first active 3 h before this $48,200 buy of YES at 0.12; 2 earlier trades"
    )
    row.update(wallet_age_hours=float("nan"), prior_trade_count=None)
    assert (
        BY_TABLE["fresh_wallet_trades"].evidence_words(row)
        == "wallet of unknown age made this $48,200 buy of YES at 0.12"
    )


def test_summary_wins_and_broken_rows_fall_back():
    assert BY_TABLE["price_spikes"].evidence_words({"evidence": {"summary": "a sentence"}}) == "a sentence"
    words = BY_TABLE["price_spikes"].evidence_words({"kind": "price_move", "move_points": 12, "evidence": {}})
    assert "move points 12" in words


def test_arbitrage_and_spike_words():
    end = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    closed = {
        "kind": "binary_bid",
        "peak_edge": 0.02,
        "duration_s": 5400.0,
        "fillable_size": 300.0,
        "closed_at": end,
        "evidence": {},
    }
    assert BY_TABLE["arbitrage_windows"].evidence_words(closed) == (
        "YES + NO bids summed to 1.020 (edge 2.0 pts), open for 1.5 h; $300 fillable at that edge"
    )
    live = {
        "kind": "negrisk_ask",
        "peak_edge": 0.03,
        "duration_s": float("nan"),
        "closed_at": pd.NaT,
        "fillable_size": None,
        "evidence": {"sum_of_asks": 0.965},
    }
    assert (
        BY_TABLE["arbitrage_windows"].evidence_words(live)
        == "the event's YES asks summed to 0.965 (edge 3.0 pts), still open"
    )
    spike = {
        "kind": "volume_z",
        "window_start": end - timedelta(minutes=30),
        "window_end": end,
        "volume_usdc": 60000.0,
        "volume_z": 5.14,
        "evidence": {},
    }
    assert BY_TABLE["price_spikes"].evidence_words(spike) == (
        "$60,000 traded in the 30 min to 2026-11-25 14:00 UTC, 5.1 standard deviations above the market's baseline"
    )


def test_durations_and_registry():
    assert [duration_words(h) for h in (0.2, 3, 4.5, 30, 72)] == ["12 min", "3 h", "4.5 h", "30 h", "3 days"]
    assert len({k.table for k in SIGNAL_TYPES}) == len(SIGNAL_TYPES)
