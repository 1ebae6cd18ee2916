"""Behaviour labels: market makers, bots and sweepers from how wallets trade."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import thresholds
from pm_assets.signals.insider_assets import wallet_behaviour_labels
from pm_assets.signals.wallet_labels import WalletBehaviour, behaviour_labels
from tests.support.insider import T0, wallet_address

DEFAULTS = {name: th.default for name, th in thresholds.catalogue()["wallet_labels"].items()}


def test_two_sided_many_market_flat_wallet_is_a_market_maker():
    mm = WalletBehaviour(
        trades=400,
        markets=30,
        two_sided_markets=25,
        usdc=100_000,
        net_usdc=10_000,
        avg_entry_price=0.5,
        span_hours=24 * 7,
    )
    assert set(behaviour_labels(mm, DEFAULTS)) == {"market_maker"}
    directional = WalletBehaviour(400, 30, 25, 100_000, 80_000, 0.5, 24 * 7)
    assert behaviour_labels(directional, DEFAULTS) == {}
    few_markets = WalletBehaviour(400, 3, 3, 100_000, 0, 0.5, 24 * 7)
    assert behaviour_labels(few_markets, DEFAULTS) == {}


def test_bots_and_sweepers():
    assert "bot" in behaviour_labels(WalletBehaviour(5000, 2, 0, 1e6, 1e6, 0.5), DEFAULTS)
    fast = WalletBehaviour(400, 40, 10, 1e5, 9e4, 0.5, span_hours=12.0)  # 800 a day
    assert set(behaviour_labels(fast, DEFAULTS)) == {"bot"}
    burst = WalletBehaviour(20, 1, 0, 5e3, 5e3, 0.5, span_hours=1.0)  # split buys: 80 a day at the 6 h floor
    assert behaviour_labels(burst, DEFAULTS) == {}
    sweeper = behaviour_labels(WalletBehaviour(5, 5, 0, 50_000, 50_000, 0.97), DEFAULTS)
    assert set(sweeper) == {"settlement_sweeper"}
    assert sweeper["settlement_sweeper"]["measures"]["avg_entry_price"] == 0.97


def test_asset_labels_wallets_that_traded(rows, warehouse_url):
    for m in range(1, 13):
        rows.market(m)
    rows.wallet(20, T0 - timedelta(days=300))
    for i in range(240):
        rows.trade(20, 1 + i % 12, T0 + timedelta(minutes=40 * i), 100, side="BUY" if i % 24 < 12 else "SELL")
    for i in range(4):
        rows.trade(30, 1 + i, T0 + timedelta(minutes=i), 5_000, price=0.97)
    config = {"ops": {"wallet_behaviour_labels": {"config": {"mm_min_trades": 200}}}}
    result = dg.materialize(
        [wallet_behaviour_labels],
        run_config=config,
        resources={"warehouse": WarehouseResource(database_url=warehouse_url)},
    )
    assert result.success
    with psycopg.connect(warehouse_url) as conn:
        labels = conn.execute("select wallet, label from wallet_behaviour_labels order by 1, 2").fetchall()
    assert labels == [(wallet_address(20), "market_maker"), (wallet_address(30), "settlement_sweeper")]
