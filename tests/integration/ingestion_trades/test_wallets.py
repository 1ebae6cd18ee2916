"""The wallets asset: aggregates from trades, first activity from the wallet's own history, cached."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import psycopg

from pm_assets.trades.assets import trades
from pm_assets.wallets import sql
from pm_assets.wallets.assets import wallets
from pm_assets.wallets.refresh import WalletRefreshSettings, look_up_first_activities, refresh_wallets
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


def test_a_live_refresh_looks_up_only_the_wallets_just_touched_and_the_backlog_drains_apart(warehouse_url):
    """The live pass's refresh (`only_touched`) never queues the wallet that just traded behind older unchecked
    wallets; `look_up_first_activities` without a bound (the live run's periodic task) takes those."""
    # The default bar ($500): a day of this world leaves a backlog of a few dozen wallets.
    live = WalletRefreshSettings(max_first_activity_lookups=3, only_touched=True)
    backlog = WalletRefreshSettings(max_first_activity_lookups=100)
    with running_sim(markets=20, trades_per_second=1.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        res = resources(sim, warehouse_url)
        assert dg.materialize([trades], partition_key=SIM_DAY_BEFORE, resources=res).success
        api, connect = res["data_api"], res["warehouse"].connect

        def unchecked() -> list[str]:
            with psycopg.connect(warehouse_url) as conn:
                return sql.wallets_needing_first_activity(conn, backlog.first_activity_min_trade_usdc, 10_000)

        first = refresh_wallets(api, connect, live)  # the first refresh: every stored fill is new to it
        assert first["first_activity_lookups"] == 3 and len(unchecked()) > 1
        assert refresh_wallets(api, connect, live)["first_activity_lookups"] == 0  # nothing new: backlog left

        just_traded = unchecked()[-1]  # the smallest of the backlog: last in line for any bounded lookup
        with psycopg.connect(warehouse_url) as conn:
            conn.execute(  # one of its fills arrives now, as a live poll would store it
                "update trades set ingested_at = now() where (traded_at, fill_key) = "
                "(select traded_at, fill_key from trades where wallet = %s order by usdc_size desc limit 1)",
                (just_traded,),
            )
        touched = refresh_wallets(api, connect, live)
        assert touched["first_activity_lookups"] == 1 and just_traded not in unchecked()

        left = len(unchecked())
        drained = look_up_first_activities(api, connect, backlog)
        assert drained["first_activity_lookups"] == min(left, 100)
        assert len(unchecked()) == left - min(left, 100)
        with psycopg.connect(warehouse_url) as conn:
            born = conn.execute(
                "select first_activity_at from wallets where wallet = %s", (just_traded,)
            ).fetchone()
        assert born[0] == _born(sim, just_traded)
