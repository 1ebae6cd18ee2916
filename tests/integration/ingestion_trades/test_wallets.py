"""The wallets asset: aggregates from trades, first activity from the wallet's own history, cached."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import psycopg

from pm_assets.trades.assets import trades
from pm_assets.wallets.assets import wallets
from pm_sim.data_api import _wallet
from pm_sim.testing import running_sim
from tests.support.trades import SIM_DAY_BEFORE, resources, seed_universe

# A low bar, so that the run looks up a few wallets' first activity (most fills are under $50).
CONFIG = {
    "ops": {"wallets": {"config": {"first_activity_min_trade_usdc": 50.0, "max_first_activity_lookups": 8}}}
}


def _born(sim, wallet: str) -> datetime:
    world = sim.sim.world
    idx = _wallet(sim.sim, wallet)
    born = world.wallet_first_activity(idx)
    return datetime.fromtimestamp(int(born), UTC)


def test_wallets_aggregate_trades_and_take_age_from_their_own_history(warehouse_url):
    with running_sim(markets=20, trades_per_second=1.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        res = resources(sim, warehouse_url)
        assert dg.materialize([trades], partition_key=SIM_DAY_BEFORE, resources=res).success
        first = dg.materialize([wallets], resources=res, run_config=CONFIG)
        meta = first.asset_materializations_for_node("wallets")[0].metadata
        with psycopg.connect(warehouse_url) as conn:
            mismatched = conn.execute("""
                select count(*) from wallets w full join (
                    select wallet, count(*) n, sum(usdc_size) v, max(traded_at) last from trades group by wallet
                ) t using (wallet)
                where w.trade_count is distinct from t.n or abs(w.volume_usdc - t.v) > 1e-6
                   or w.last_seen_at is distinct from t.last""").fetchone()[0]
            looked_up = conn.execute("""
                select w.wallet, w.first_activity_at, min(t.traded_at) from wallets w join trades t using (wallet)
                where w.first_activity_checked_at is not null group by w.wallet, w.first_activity_at""").fetchall()
        assert mismatched == 0
        assert 0 < len(looked_up) == meta["first_activity_lookups"].value <= 8
        for wallet, first_activity, first_trade in looked_up:
            assert first_activity == _born(sim, wallet) and first_activity <= first_trade

        again = dg.materialize([wallets], resources=res, run_config=CONFIG)
        meta2 = again.asset_materializations_for_node("wallets")[0].metadata
        assert meta2["wallets_aggregated"].value == 0
        # Only wallets not yet checked are looked up: the first run's are cached.
        with psycopg.connect(warehouse_url) as conn:
            checked = conn.execute(
                "select count(*) from wallets where first_activity_checked_at is not null"
            ).fetchone()[0]
        assert checked == len(looked_up) + meta2["first_activity_lookups"].value
