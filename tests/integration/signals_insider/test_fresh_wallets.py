"""fresh_wallet_trades: the rule, accumulation, escalation, noise control, and the asset on a real Postgres."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
import pytest

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import thresholds
from pm_assets.signals.fresh_wallets import fresh_wallet_rows, should_fire
from pm_assets.signals.insider_assets import fresh_wallet_trades
from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.positions import Fill
from tests.support.insider import T0, condition, wallet_address

DEFAULTS = {name: th.default for name, th in thresholds.catalogue()["fresh_wallet"].items()}
W = wallet_address(7)
C = condition(1)


def fill(i: int, minutes: float, usdc: float, *, price: float = 0.2, side: str = "BUY") -> Fill:
    return Fill(f"f{i:03d}", T0 + timedelta(minutes=minutes), W, C, "1000", side, price, usdc / price, "Yes")


def rows_for(fills, *, age_hours: float | None = 3.0, labels=(), t=None, volume=100_000.0):
    first = None if age_hours is None else T0 - timedelta(hours=age_hours)
    return fresh_wallet_rows(
        fills,
        WalletFacts(W, first, tuple(labels)),
        MarketFacts(C, 20_000, volume, "q?"),
        dict(DEFAULTS, **(t or {})),
        volume_at=lambda at: volume,
    )


def test_a_big_buy_by_a_young_wallet_fires_with_a_readable_summary():
    [row] = rows_for([fill(1, 0, 48_200, price=0.12)])
    assert row["suppressed_reason"] is None and row["alert_tier"] == 0
    assert row["wallet_age_hours"] == pytest.approx(3.0)
    summary = row["evidence"]["summary"]
    assert summary.startswith("wallet first active 3 h before this $48,200 buy of Yes at 0.12")
    assert "fresh wallet + 48% of daily volume" in summary and should_fire(row["evidence"])


def test_old_wallets_and_small_positions_do_not_fire():
    assert rows_for([fill(1, 0, 48_200)], age_hours=24 * 30) == []
    assert rows_for([fill(1, 0, 1_000)]) == []


def test_an_ordinary_ticket_for_a_busy_market_does_not_fire():
    # $5k is 2.5% of a $200k/day market but 0.25% of one trading $2M a day, where new wallets place tickets this
    # size all day (issue 16; ../shared/real-flow.md: new wallets place half of real $10k+ fills).
    [row] = rows_for([fill(1, 0, 5_000)], volume=200_000.0)
    assert row["suppressed_reason"] is None and row["evidence"]["inputs"]["volume_share"] == pytest.approx(
        0.025
    )
    assert rows_for([fill(1, 0, 5_000)], volume=2_000_000.0) == []
    assert rows_for([fill(1, 0, 5_000)], volume=2_000_000.0, t={"fresh_min_volume_share": 0.0})
    evidence = dict(row["evidence"], inputs=dict(row["evidence"]["inputs"], volume_24h_usdc=2_000_000.0))
    assert not should_fire(evidence)


def test_twelve_split_buys_are_one_alert_of_their_sum():
    rows = rows_for([fill(i, i * 5, 5_000) for i in range(12)], t={"fresh_min_usdc": 10_000})
    assert len(rows) == 1
    assert rows[0]["usdc_size"] == pytest.approx(60_000) and rows[0]["fill_count"] == 12
    assert "(12 fills)" in rows[0]["evidence"]["summary"]


def test_later_buys_escalate_only_at_2x_and_5x_never_repeat():
    fills = [fill(0, 0, 10_000)] + [fill(i, 600 + i, 5_000) for i in range(1, 13)]
    rows = rows_for(fills)
    assert [r["alert_tier"] for r in rows] == [0, 1, 2]
    assert rows[1]["usdc_size"] == pytest.approx(20_000) and rows[2]["usdc_size"] == pytest.approx(50_000)
    assert len({r["signal_key"] for r in rows}) == 3 and all(should_fire(r["evidence"]) for r in rows)


def test_noise_is_kept_with_a_reason():
    [sweep] = rows_for([fill(1, 0, 20_000, price=0.97)])
    assert sweep["suppressed_reason"] == "settlement_sweep"
    # A sell at 0.03 is an exit from shares held, never an entry into the other outcome at 0.97.
    assert rows_for([fill(1, 0, 20_000, price=0.03, side="SELL")], t={"fresh_min_usdc": 500}) == []
    [mm] = rows_for([fill(1, 0, 20_000)], labels=["market_maker"])
    assert mm["suppressed_reason"] == "market_maker"
    [kept] = rows_for([fill(1, 0, 20_000)], labels=["market_maker"], t={"exclude_labelled_wallets": False})
    assert kept["suppressed_reason"] is None
    [unknown] = rows_for([fill(1, 0, 20_000)], age_hours=None)
    assert unknown["suppressed_reason"] == "wallet_age_unknown" and not should_fire(unknown["evidence"])


def test_liquidity_filter_limits_to_thin_markets():
    assert rows_for([fill(1, 0, 20_000)], t={"fresh_max_liquidity": 10_000}) == []
    assert len(rows_for([fill(1, 0, 20_000)], t={"fresh_max_liquidity": 50_000})) == 1


def _materialize(url: str, **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [fresh_wallet_trades],
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config={"ops": {"fresh_wallet_trades": {"config": config}}} if config else None,
    )


def _table(url: str):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select wallet, alert_tier, usdc_size, suppressed_reason, fill_count from fresh_wallet_trades"
            " order by wallet, alert_tier"
        ).fetchall()


def test_asset_writes_alerts_and_reruns_never_duplicate(rows, warehouse_url):
    rows.market(1, liquidity=5_000, volume_24h=40_000)
    rows.wallet(1, T0 - timedelta(hours=5))
    rows.wallet(2, T0 - timedelta(days=300))
    rows.wallet(3, None)
    for k in range(4):
        rows.trade(1, 1, T0 + timedelta(minutes=k), 1_000)
    rows.trade(2, 1, T0, 30_000)
    rows.trade(3, 1, T0, 30_000)
    assert _materialize(warehouse_url).success
    first = _table(warehouse_url)
    assert first == [
        (wallet_address(1), 0, pytest.approx(4_000), None, 4),
        (wallet_address(3), 0, pytest.approx(30_000), "wallet_age_unknown", 1),
    ]
    assert _materialize(warehouse_url).success
    assert _materialize(warehouse_url, rescan_from="2026-11-20", rescan_to="2026-11-21").success
    assert _table(warehouse_url) == first
    # The age becomes known (an old wallet): the held-back row is re-evaluated and removed.
    rows.wallet(3, T0 - timedelta(days=100))
    rows.trade(1, 1, T0 + timedelta(minutes=5), 1_000)
    assert _materialize(warehouse_url).success
    assert _table(warehouse_url) == [(wallet_address(1), 0, pytest.approx(5_000), None, 5)]


def test_invalid_threshold_is_refused_with_its_rule(warehouse_url):
    with pytest.raises(dg.Failure, match="fresh_min_usdc must be at least 0"):
        _materialize(warehouse_url, fresh_min_usdc=-5.0)
