"""Insider signals on real-shaped cases (issue 16): net positions, time to resolution, size that matters.

Each case is what real trades showed: a wallet selling what it bought, a sell of the favourite at 0.98, election-
day buys of the favourite at 0.85-0.91 in the last hours, $750 of split buys in a thin market, and the case the
signals exist for, a new wallet buying a longshot hours before the news. Through the public row functions and,
for the end date, through the asset on a real Postgres."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
import pytest

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import thresholds
from pm_assets.signals.fresh_wallets import fresh_wallet_rows
from pm_assets.signals.fresh_wallets import should_fire as fresh_should_fire
from pm_assets.signals.insider_assets import fresh_wallet_trades
from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.positions import Fill
from pm_assets.signals.size_anomalies import size_anomaly_rows
from pm_assets.signals.size_anomalies import verdict as size_verdict
from tests.support.insider import T0, condition, token, wallet_address

FRESH = {name: th.default for name, th in thresholds.catalogue()["fresh_wallet"].items()}
SIZE = {name: th.default for name, th in thresholds.catalogue()["size_anomaly"].items()}
W = wallet_address(42)
C = condition(42)
DEM, REP = token(42, 0), token(42, 1)


def fill(i: int, minutes: float, usdc: float, price: float, *, side: str = "BUY", tok: str = DEM) -> Fill:
    outcome = "Democratic" if tok == DEM else "Republican"
    return Fill(f"r{i:03d}", T0 + timedelta(minutes=minutes), W, C, tok, side, price, usdc / price, outcome)


def market(*, end_in_hours: float | None = 24 * 30, volume: float = 200_000.0) -> MarketFacts:
    end = None if end_in_hours is None else T0 + timedelta(hours=end_in_hours)
    return MarketFacts(C, 50_000, volume, "Which party wins the seat?", end)


def fresh_rows(fills, *, age_hours: float = 5.0, mkt: MarketFacts | None = None, volume: float = 200_000.0):
    return fresh_wallet_rows(
        fills,
        WalletFacts(W, T0 - timedelta(hours=age_hours), ()),
        mkt or market(volume=volume),
        dict(FRESH),
        volume_at=lambda at: volume,
    )


def size_rows(fills, *, mkt=None, volume=200_000.0, quantile=(None, 0), age_days: float = 90):
    return size_anomaly_rows(
        fills,
        WalletFacts(W, T0 - timedelta(days=age_days), ()),
        mkt or market(volume=volume),
        dict(SIZE),
        volume_at=lambda at: volume,
        book_at=lambda f: None,
        size_quantile_at=lambda at: quantile,
    )


def alerts(rows):
    return [r for r in rows if r["suppressed_reason"] is None]


# --- positions are net ----------------------------------------------------------------------------------------
def test_a_wallet_selling_what_it_bought_never_escalates():
    buys = [fill(0, 0, 6_000, 0.30)]
    # Days later it sells the shares, buys some back and sells again: $36k of turnover, never more than $6k held.
    churn = []
    for k in range(3):
        churn += [
            fill(10 + 2 * k, 3000 + 60 * k, 6_000, 0.30, side="SELL"),
            fill(11 + 2 * k, 3030 + 60 * k, 6_000, 0.3),
        ]
    fresh = fresh_rows(buys + churn)
    assert [r["alert_tier"] for r in fresh] == [0], "turnover is not a bigger position"
    sized = size_rows(buys + churn, volume=40_000)
    assert [r["alert_tier"] for r in sized] == [0]
    # Genuinely adding to the position still escalates: net $12k is 2x the first alert.
    more = fresh_rows([*buys, *churn, fill(30, 4000, 6_000, 0.30)])
    assert [r["alert_tier"] for r in more] == [0, 1] and more[1]["usdc_size"] == pytest.approx(12_000)


def test_an_exit_is_never_an_escalation_even_when_it_is_large():
    rows = fresh_rows([fill(0, 0, 5_000, 0.40), fill(1, 600, 30_000, 0.45, side="SELL")])
    assert [r["alert_tier"] for r in rows] == [0]
    assert rows[0]["evidence"]["inputs"]["exited_usdc"] == 0  # the exit came after the alert's position


def test_selling_the_favourite_at_098_is_no_entry_into_the_other_outcome_at_002():
    # The wallet holds Democratic from before these fills and sells it at 0.98 (it never bought Republican).
    sells = [fill(k, k * 3, 9_000, 0.98, side="SELL") for k in range(4)]
    assert fresh_rows(sells) == []
    assert size_rows(sells, volume=20_000) == []


def test_a_position_is_the_outcome_held_net_of_exits():
    # $4k bought and $1.8k of it sold in between: $5.8k of turnover (the old rule fired), $2.2k held.
    fills = [fill(0, 0, 2_000, 0.25), fill(1, 5, 1_800, 0.25, side="SELL"), fill(2, 9, 2_000, 0.25)]
    assert fresh_rows(fills) == [], "net $2.2k is under the $2.5k floor"
    assert fresh_rows([*fills, fill(3, 12, 1_000, 0.6, tok=REP)]) == [], "two outcomes are not one position"
    [row] = fresh_rows([*fills, fill(4, 15, 500, 0.25)])
    assert row["usdc_size"] == pytest.approx(2_700) and row["evidence"]["inputs"]["exited_usdc"] == 1_800


# --- time to resolution ---------------------------------------------------------------------------------------
def test_the_favourite_bought_in_the_final_hours_does_not_fire():
    day = market(end_in_hours=6)
    rows = fresh_rows([fill(0, 0, 12_000, 0.88), fill(1, 20, 8_000, 0.91)], mkt=day)
    assert rows and all(r["suppressed_reason"] == "favourite_near_resolution" for r in rows)
    assert not any(fresh_should_fire(r["evidence"]) for r in rows)
    x = rows[0]["evidence"]["inputs"]
    assert x["market_end_date"] == (T0 + timedelta(hours=6)).isoformat()
    assert x["hours_to_end"] == 6.0  # at the fill that crossed the floor
    assert x["payoff"] == pytest.approx((1 - x["entry_vwap"]) / x["entry_vwap"], abs=1e-3)
    assert "h before the market's end date" in rows[0]["evidence"]["summary"]
    big = size_rows([fill(0, 0, 30_000, 0.88)], mkt=market(end_in_hours=6, volume=60_000), volume=60_000)
    assert big and big[0]["suppressed_reason"] == "favourite_near_resolution"
    assert size_verdict(big[0]["evidence"]) == "favourite_near_resolution"


def test_the_same_favourite_bought_weeks_before_the_end_date_still_alerts():
    rows = fresh_rows([fill(0, 0, 12_000, 0.88)], mkt=market(end_in_hours=24 * 21))
    assert [r["suppressed_reason"] for r in rows] == [None]


def test_a_longshot_bought_by_a_new_wallet_hours_before_the_news_fires_with_its_payoff():
    # A wallet first active 3 h ago buys $9k of the 0.07 outcome in three fills; the market ends in 8 hours.
    mkt = market(end_in_hours=8, volume=150_000)
    buys = [fill(0, 0, 3_000, 0.07), fill(1, 4, 3_500, 0.07), fill(2, 9, 2_500, 0.08)]
    [row] = fresh_rows(buys, age_hours=3, mkt=mkt, volume=150_000)
    assert row["suppressed_reason"] is None and fresh_should_fire(row["evidence"])
    x = row["evidence"]["inputs"]
    assert x["payoff"] > 11 and x["hours_to_end"] == 8.0
    assert row["evidence"]["risk"]["components"]["payoff"] == 1.0
    assert (
        "pays 12" in row["evidence"]["summary"]
        and "8 h before the market's end date" in row["evidence"]["summary"]
    )
    favourite = fresh_rows([fill(0, 0, 9_000, 0.70)], age_hours=3, mkt=market(end_in_hours=24 * 30))
    assert row["risk_score"] > favourite[0]["risk_score"], "the payoff weighs in the risk score"


# --- size that matters ----------------------------------------------------------------------------------------
def test_750_dollars_split_over_six_fills_is_no_position_building():
    fills = [fill(k, k * 10, 125, 0.40) for k in range(6)]
    assert alerts(size_rows(fills, volume=30_000)) == []


def test_a_size_ordinary_in_its_market_is_no_anomaly():
    # $1,800 is 12% of a thin market's day, but that market's own p99 fill is $2,400.
    fills = [fill(0, 0, 1_800, 0.35)]
    assert alerts(size_rows(fills, volume=15_000, quantile=(2_400.0, 800))) == []
    # Against a market whose fills are small (p99 $400) the same position stands out.
    [row] = size_rows(fills, volume=15_000, quantile=(400.0, 800))
    assert row["suppressed_reason"] is None
    assert row["evidence"]["inputs"]["market_size_quantile_usdc"] == 400.0
    # Split buys are judged by their pattern and the building floor, not by single-fill sizes.
    split = [fill(10 + k, k * 7, 200, 0.35) for k in range(8)]
    [built] = size_rows(split, volume=2_000_000, quantile=(2_400.0, 800))
    assert built["suppressed_reason"] is None and built["fill_count"] == 8
    # Too few fills to judge the market by: the USDC floors alone decide.
    assert alerts(size_rows(fills, volume=15_000, quantile=(2_400.0, 10)))


# --- through the asset: the end date comes from the markets table ------------------------------------------------
def test_the_asset_reads_the_end_date_and_keeps_the_late_favourite_suppressed(rows, warehouse_url):
    late, early = rows.market(7, volume_24h=300_000), rows.market(8, volume_24h=300_000)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "update markets set end_date = %s where condition_id = %s", (T0 + timedelta(hours=4), late)
        )
        conn.execute(
            "update markets set end_date = %s where condition_id = %s", (T0 + timedelta(hours=9), early)
        )
    rows.wallet(1, T0 - timedelta(hours=2))
    rows.wallet(2, T0 - timedelta(hours=2))
    rows.trade(1, 7, T0, 15_000, price=0.9)  # the favourite, 4 h before the end: ordinary
    rows.trade(2, 8, T0, 15_000, price=0.06)  # a longshot, 9 h before the end: the signal
    result = dg.materialize(
        [fresh_wallet_trades], resources={"warehouse": WarehouseResource(database_url=warehouse_url)}
    )
    assert result.success
    with psycopg.connect(warehouse_url) as conn:
        got = conn.execute(
            "select wallet, suppressed_reason, evidence->'inputs'->>'hours_to_end' from fresh_wallet_trades order by wallet"
        ).fetchall()
    assert got == [
        (wallet_address(1), "favourite_near_resolution", "4.0"),
        (wallet_address(2), None, "9.0"),
    ]
