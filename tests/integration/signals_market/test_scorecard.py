"""Scorecard: per-signal scoring, clustered intervals, and figures equal to a recomputation from the tables."""

from datetime import UTC, datetime, timedelta

import pytest

from pm_assets.markets.fees import taker_fee
from pm_assets.signals.market_assets import signal_scorecard
from pm_assets.signals.scorecard import (
    PriceBook,
    Resolution,
    SignalRef,
    bootstrap_mean_by_market,
    clustered_hit_rate,
    score_signal,
    scorecard_summary,
    wilson,
)
from tests.support.market import T0, condition, materialize, token

FEES = {"rate": 0.02, "exponent": 1}


def test_wilson_and_cluster_design_effect():
    lo, hi = wilson(0.5, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    independent = clustered_hit_rate([(f"m{i}", i % 2 == 0) for i in range(100)])
    # The same 100 outcomes, but each market's 10 signals agree: effectively 10 observations, a wider interval.
    clustered = clustered_hit_rate([(f"m{i // 10}", (i // 10) % 2 == 0) for i in range(100)])
    assert independent["rate"] == clustered["rate"] == 0.5
    assert clustered["markets"] == 10 and clustered["n_effective"] == pytest.approx(10, rel=0.15)
    assert clustered["high"] - clustered["low"] > 2 * (independent["high"] - independent["low"])


def test_bootstrap_over_markets_is_seeded_and_brackets_the_mean():
    pairs = [(f"m{i % 7}", float(i % 5) - 1.0) for i in range(70)]
    a, b = bootstrap_mean_by_market(pairs), bootstrap_mean_by_market(pairs)
    assert a == b and a["low"] <= a["mean"] <= a["high"] and a["markets"] == 7
    assert bootstrap_mean_by_market([("m", 1.0)])["low"] is None


def test_score_signal_follows_direction_and_pays_fees():
    t = T0
    prices = PriceBook({"y": [(t, 0.40), (t + timedelta(hours=1), 0.50)]}, {"y": "n", "n": "y"})
    sell = SignalRef("fresh_wallet_trades", "k", "c", t, "y", -1, False, {})
    rows = score_signal(
        sell, prices, Resolution("n", t + timedelta(hours=30)), FEES, True, 100.0, t + timedelta(days=3)
    )
    by = {r["horizon"]: r for r in rows}
    assert by["1h"]["direction_token_id"] == "n" and by["1h"]["price_at_signal"] == pytest.approx(0.60)
    assert by["1h"]["move_in_direction"] == pytest.approx(-0.10)
    shares = 100 / 0.6
    assert by["1h"]["paper_profit"] == pytest.approx(
        shares * -0.1 - taker_fee(shares, 0.6, FEES) - taker_fee(shares, 0.5, FEES), abs=1e-5
    )
    assert by["settlement"]["correct"] is True
    assert by["settlement"]["paper_profit"] == pytest.approx(
        shares * 0.4 - taker_fee(shares, 0.6, FEES), abs=1e-5
    )
    # Not yet 24 h old: no 24 h row; unresolved: no settlement row.
    early = score_signal(sell, prices, None, FEES, True, 100.0, t + timedelta(hours=2))
    assert [r["horizon"] for r in early] == ["1h"] and early[0]["correct"] is None


def _seed(world):
    now = datetime.now(UTC)
    t0 = now - timedelta(days=3)
    # Market 1 resolves YES, market 2 NO, market 3 is open. Spikes up on 1 and 2, one spike down on 1.
    for n in (1, 2, 3):
        world.market(n, fee_schedule=FEES)
        for h in range(0, 48):
            p = 0.40 + (0.004 * h if n == 1 else -0.003 * h if n == 2 else 0.0)
            world.price_point(n, 0, t0 + timedelta(hours=h), round(p, 4))
    world.resolve(1, 0, t0 + timedelta(hours=50))
    world.resolve(2, 1, t0 + timedelta(hours=50))
    spikes = [(1, 2, 10.0), (1, 5, 12.0), (1, 9, -11.0), (2, 3, 15.0), (3, 4, 10.0)]
    for i, (n, h, move) in enumerate(spikes):
        world.conn.execute(
            "insert into price_spikes (signal_key, kind, condition_id, token_id, window_start, window_end,"
            " move_points, suppressed_reason, evidence) values (%s,'price_move',%s,%s,%s,%s,%s,%s,'{}')",
            (
                f"s{i}",
                condition(n),
                token(n, 0),
                t0 + timedelta(hours=h - 0.2),
                t0 + timedelta(hours=h, minutes=1),
                move,
                None,
            ),
        )
    world.conn.execute(
        "insert into price_spikes (signal_key, kind, condition_id, token_id, window_start, window_end, move_points,"
        " suppressed_reason, evidence) values ('held','price_move',%s,%s,%s,%s,10,'market_disputed','{}')",
        (condition(1), token(1, 0), t0, t0 + timedelta(hours=1)),
    )
    world.conn.execute(
        "insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url)"
        " values ('big moves', 'price_spike', '{\"min_move\": 11}', 'json', 'https://example.invalid/x')"
    )
    return now


def test_scorecard_equals_recomputation_from_signal_and_resolution_tables(world):
    _seed(world)
    assert materialize([signal_scorecard], world.url).success
    assert materialize([signal_scorecard], world.url).success  # re-run: no duplicates
    rows = world.rows("signal_scorecard")
    assert len({(r["signal_key"], r["horizon"]) for r in rows}) == len(rows)
    # Independent recomputation: direction token vs winner straight from the tables.
    expected = world.conn.execute(
        """select count(*), count(distinct s.condition_id),
                  avg(case when (case when s.move_points > 0 then 0 else 1 end) = k.outcome_index then 1.0 else 0 end)
             from price_spikes s join market_resolutions r using (condition_id)
             join tokens k on k.token_id = r.winning_token_id
            where s.suppressed_reason is null"""
    ).fetchone()
    import psycopg

    with psycopg.connect(world.url) as conn:
        summary = scorecard_summary(conn)
    settled = summary["by_signal"]["price_spikes"]["figures"]["settlement"]
    assert (settled["alerts"], settled["markets"]) == (expected[0], expected[1]) == (4, 2)
    assert settled["hit_rate"]["rate"] == pytest.approx(float(expected[2]))
    # Profit at settlement, recomputed from prices at signal time: shares × (payout − p0) − entry fee.
    profits = []
    for _key, n, h, move in (("s0", 1, 2, 10), ("s1", 1, 5, 12), ("s2", 1, 9, -11), ("s3", 2, 3, 15)):
        p_yes = 0.40 + (0.004 * h if n == 1 else -0.003 * h)
        p0 = round(p_yes, 4) if move > 0 else 1 - round(p_yes, 4)
        won = (move > 0) == (n == 1)
        shares = 100 / p0
        profits.append(100 * (shares * ((1.0 if won else 0.0) - p0) - taker_fee(shares, p0, FEES)) / 100)
    assert settled["profit_pct_per_alert"]["mean"] == pytest.approx(sum(profits) / 4, abs=1e-3)
    assert summary["by_signal"]["price_spikes"]["figures"]["24h"]["alerts"] == 5
    [rule] = summary["by_rule"]
    assert (
        rule["figures"]["settlement"]["alerts"] == 2
    )  # s1 (12 points) and s3 (15); -11 is below min_move 11
    assert rule["headline"].startswith("2 alerts in 2 markets, right 50% [")  # s4 (10 points) is filtered out
