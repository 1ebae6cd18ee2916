"""wallet_clusters: coordinated fresh-wallet entries, chained by time, and the asset on a real Postgres."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
import pytest

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import thresholds
from pm_assets.signals.insider_assets import wallet_clusters
from pm_assets.signals.wallet_clusters import Entry, chains, cluster_row, should_fire, verdict
from tests.support.insider import T0, condition, token, wallet_address

DEFAULTS = {name: th.default for name, th in thresholds.catalogue()["wallet_cluster"].items()}


def entry(
    w: int,
    minutes: float,
    usdc: float = 2_000,
    *,
    age: float = 3.0,
    price: float = 0.3,
    labels=(),
    side: str = "BUY",
) -> Entry:
    return Entry(
        f"e{w}-{minutes}",
        T0 + timedelta(minutes=minutes),
        wallet_address(w),
        condition(1),
        token(1),
        side,
        price,
        usdc,
        age,
        tuple(labels),
    )


def test_three_fresh_wallets_within_minutes_are_one_cluster():
    [chain] = chains([entry(1, 0), entry(2, 4), entry(3, 9), entry(4, 60)], DEFAULTS)
    row = cluster_row(chain, DEFAULTS)
    assert row["wallet_count"] == 3 and row["total_usdc"] == 6_000 and row["suppressed_reason"] is None
    assert row["evidence"]["summary"].startswith(
        "3 wallets first active 3-3 h earlier put $6,000 on one outcome"
    )
    assert should_fire(row["evidence"])


def test_old_small_labelled_or_spread_out_entries_are_not_members():
    assert chains([entry(1, 0), entry(2, 4), entry(3, 9, age=24 * 30)], DEFAULTS) == []
    assert chains([entry(1, 0), entry(2, 4), entry(3, 9, usdc=100)], DEFAULTS) == []
    assert chains([entry(1, 0), entry(2, 4), entry(3, 9, labels=["bot"])], DEFAULTS) == []
    assert chains([entry(1, 0), entry(2, 20), entry(3, 40)], DEFAULTS) == []
    assert chains([entry(1, 0), entry(1, 4), entry(2, 9)], DEFAULTS) == []  # two wallets only
    # Three fresh wallets selling the outcome within minutes are exits, never a cluster entering the other one.
    assert chains([entry(w, 3 * w, side="SELL", price=0.97) for w in (1, 2, 3)], DEFAULTS) == []


def test_sweep_priced_clusters_are_kept_suppressed():
    [chain] = chains([entry(1, 0, price=0.97), entry(2, 1, price=0.98), entry(3, 2, price=0.97)], DEFAULTS)
    row = cluster_row(chain, DEFAULTS)
    assert row["suppressed_reason"] == "settlement_sweep" == verdict(row["evidence"])


def test_a_cluster_must_be_money_that_matters_in_its_market():
    # Three new wallets putting $6k on one outcome within minutes: a tenth of a $60k/day market, but 0.3% of a
    # market trading $2M a day, where new wallets buying together is ordinary flow (issue 16).
    [chain] = chains([entry(1, 0), entry(2, 4), entry(3, 9)], DEFAULTS)
    quiet, busy = cluster_row(chain, DEFAULTS, 60_000.0), cluster_row(chain, DEFAULTS, 2_000_000.0)
    assert quiet["suppressed_reason"] is None and verdict(quiet["evidence"]) is None
    assert quiet["evidence"]["inputs"]["volume_share"] == pytest.approx(0.1)
    assert "10.0% of the market's 24 h volume" in quiet["evidence"]["summary"]
    assert busy["suppressed_reason"] == "not_fired" == verdict(busy["evidence"])
    off = dict(DEFAULTS, cluster_min_volume_share=0.0)
    assert cluster_row(chain, off, 2_000_000.0)["suppressed_reason"] is None


def test_asset_finds_clusters_across_runs_without_duplicates(rows, warehouse_url):
    rows.market(1, volume_24h=60_000)
    for w in (1, 2, 3, 4):
        rows.wallet(w, T0 - timedelta(hours=2))
    resources = {"warehouse": WarehouseResource(database_url=warehouse_url)}
    rows.trade(1, 1, T0, 2_000, price=0.3)
    rows.trade(2, 1, T0 + timedelta(minutes=3), 2_000, price=0.3)
    assert dg.materialize([wallet_clusters], resources=resources).success
    rows.trade(3, 1, T0 + timedelta(minutes=6), 2_000, price=0.3)
    assert dg.materialize([wallet_clusters], resources=resources).success
    rows.trade(4, 1, T0 + timedelta(minutes=8), 2_000, price=0.3)
    assert dg.materialize([wallet_clusters], resources=resources).success
    assert dg.materialize([wallet_clusters], resources=resources).success
    with psycopg.connect(warehouse_url) as conn:
        found = conn.execute(
            "select wallet_count, total_usdc, suppressed_reason from wallet_clusters"
        ).fetchall()
    assert found == [(4, 8_000, None)]
