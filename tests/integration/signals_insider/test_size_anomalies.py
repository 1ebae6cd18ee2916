"""size_anomalies: volume share, book walk, niche weighting, noise control, and the asset on a real Postgres."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
import pytest

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import thresholds
from pm_assets.signals.insider_assets import size_anomalies
from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.positions import Fill
from pm_assets.signals.size_anomalies import book_walk, should_fire, size_anomaly_rows, verdict
from tests.support.insider import T0, condition, wallet_address

DEFAULTS = {name: th.default for name, th in thresholds.catalogue()["size_anomaly"].items()}
W = wallet_address(9)
C = condition(2)
ASKS = [{"price": "0.52", "size": "100"}, {"price": "0.50", "size": "100"}, {"price": "0.55", "size": "300"}]
BIDS = [{"price": "0.48", "size": "50"}]


def fill(i: int, minutes: float, usdc: float, *, price: float = 0.5, side: str = "BUY") -> Fill:
    return Fill(f"s{i:03d}", T0 + timedelta(minutes=minutes), W, C, "2000", side, price, usdc / price, "No")


def rows_for(fills, *, volume=1_000_000.0, book=None, labels=(), t=None):
    return size_anomaly_rows(
        fills,
        WalletFacts(W, T0 - timedelta(days=90), tuple(labels)),
        MarketFacts(C, 50_000, volume, "q?"),
        dict(DEFAULTS, **(t or {})),
        volume_at=lambda at: 0.0,
        book_at=lambda f: None if book is None else (T0 - timedelta(minutes=1), BIDS, ASKS),
    )


def test_book_walk_takes_the_side_it_hit_in_price_order():
    walk = book_walk(fill(1, 0, 125), BIDS, ASKS)  # 250 shares: 100 @ .50, 100 @ .52, 50 @ .55
    assert walk["levels_walked"] == 3 and walk["walk_to_price"] == 0.55 and not walk["exhausts_book"]
    assert walk["depth_share"] == pytest.approx(0.5)
    as_stored = book_walk(
        fill(1, 0, 125), [[0.48, 50]], [[0.5, 100], [0.52, 100], [0.55, 300]]
    )  # books asset
    assert as_stored == walk
    sell = book_walk(fill(2, 0, 48, price=0.48, side="SELL"), BIDS, ASKS)
    assert sell["exhausts_book"] and sell["depth_share"] == pytest.approx(2.0)


def test_share_of_daily_volume_fires_and_small_shares_do_not():
    [row] = rows_for([fill(1, 0, 120_000)])  # 12% of $1M (default share 10%)
    assert row["suppressed_reason"] is None and row["volume_share"] == pytest.approx(0.12)
    assert "12% of the market's 24 h volume" in row["evidence"]["summary"]
    assert rows_for([fill(1, 0, 60_000)]) == []


def test_niche_markets_weight_the_score_up():
    assert rows_for([fill(1, 0, 3_000)], volume=40_000) != []  # 7.5% x 1.5 in a niche market
    assert rows_for([fill(1, 0, 6_000)], volume=80_000) == []  # 7.5% in a liquid one


def test_book_depth_fires_when_a_fill_takes_the_whole_side():
    [row] = rows_for([fill(1, 0, 1_200)], book=True)  # 2400 shares vs 500 visible
    assert row["depth_share"] == pytest.approx(4.8) and row["evidence"]["inputs"]["book"]["exhausts_book"]


def test_split_buys_accumulate_and_sweeps_and_market_makers_are_kept_suppressed():
    rows = rows_for([fill(i, i * 4, 400) for i in range(15)], volume=40_000)
    assert len(rows) == 1 and rows[0]["fill_count"] == 15 and rows[0]["usdc_size"] == pytest.approx(6_000)
    [sweep] = rows_for([fill(1, 0, 150_000, price=0.97)])
    assert (
        sweep["suppressed_reason"] == "settlement_sweep" and verdict(sweep["evidence"]) == "settlement_sweep"
    )
    [mm] = rows_for([fill(1, 0, 150_000)], labels=["bot"])
    assert mm["suppressed_reason"] == "bot" and not should_fire(mm["evidence"])


def test_asset_reads_the_book_before_the_trade_and_never_duplicates(rows, warehouse_url):
    rows.market(2, liquidity=5_000, volume_24h=1_000_000)
    rows.wallet(9, T0 - timedelta(days=90))
    rows.book(2, T0 - timedelta(minutes=2), asks=[(0.5, 100), (0.51, 100)], bids=[(0.49, 100)])
    rows.book(2, T0 + timedelta(minutes=2), asks=[(0.5, 100000)], bids=[(0.49, 100000)])  # after: not used
    rows.trade(9, 2, T0, 1_500)
    resources = {"warehouse": WarehouseResource(database_url=warehouse_url)}
    for _ in range(2):
        assert dg.materialize([size_anomalies], resources=resources).success
    with psycopg.connect(warehouse_url) as conn:
        found = conn.execute("select depth_share, suppressed_reason, evidence from size_anomalies").fetchall()
    assert len(found) == 1
    depth_share, reason, evidence = found[0]
    assert depth_share == pytest.approx(15.0) and reason is None and should_fire(evidence)


def test_position_building_fires_on_many_same_direction_fills_in_a_liquid_market():
    rows = rows_for([fill(i, i * 6, 150) for i in range(10)])  # $1,500 = 0.15% of a $1M market
    assert len(rows) == 1 and rows[0]["suppressed_reason"] is None and rows[0]["fill_count"] == 10
    assert rows[0]["evidence"]["inputs"]["building"]["fills"] >= 6
    mixed = [fill(i, i * 6, 150, side="BUY" if i % 2 else "SELL") for i in range(10)]
    assert rows_for(mixed) == []
