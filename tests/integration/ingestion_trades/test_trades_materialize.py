"""The trades and market_resolutions assets against pm_sim with Data API v1 switched off."""

from __future__ import annotations

import dagster as dg
import psycopg

from pm_assets.markets.resolutions import market_resolutions
from pm_assets.trades.assets import trades
from pm_assets.trades.checks import trade_checks
from pm_sim.data_more import resolution
from pm_sim.testing import running_sim
from tests.support.trades import (
    SIM_DAY,
    SIM_DAY_BEFORE,
    emitted_fills,
    resources,
    scalar,
    seed_universe,
    stored_fills,
)


def _materialize(asset, sim, url, partition=None, **client):
    result = dg.materialize([asset], resources=resources(sim, url, **client), partition_key=partition)
    assert result.success
    return result.asset_materializations_for_node(asset.op.name)[0].metadata


def test_full_load_is_exactly_once_and_reruns_change_nothing(warehouse_url):
    with running_sim(markets=30, trades_per_second=1.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        first = {day: _materialize(trades, sim, warehouse_url, day) for day in (SIM_DAY_BEFORE, SIM_DAY)}
        expected = emitted_fills(sim)
        assert sum(expected.values()) > 5000
        assert stored_fills(warehouse_url) == expected
        assert sum(m["rows_inserted"].value for m in first.values()) == sum(expected.values())

        again = _materialize(trades, sim, warehouse_url, SIM_DAY_BEFORE)
        overlap = _materialize(trades, sim, warehouse_url, SIM_DAY_BEFORE, page_limit=137)
        assert again["rows_inserted"].value == overlap["rows_inserted"].value == 0
        assert overlap["rows_skipped_duplicate"].value == first[SIM_DAY_BEFORE]["rows_inserted"].value
        assert stored_fills(warehouse_url) == expected
        assert (
            scalar(warehouse_url, "select count(*) from trades where condition_id !~ '^0x[0-9a-f]{64}$'") == 0
        )
        assert (
            scalar(warehouse_url, "select count(*) from ingestion_cursors where name like 'trades_day:%%'")
            == 2
        )

        checked = dg.materialize(
            [trades, *trade_checks], partition_key=SIM_DAY_BEFORE, resources=resources(sim, warehouse_url)
        )
        verdicts = {e.check_name: e.passed for e in checked.get_asset_check_evaluations()}
        assert verdicts == {
            "trades_no_duplicate_fills": True,
            "trades_prices_in_range": True,
            "trades_tokens_known": True,
            "trades_partitions_complete": True,
            "trades_fresh": False,
            "trades_no_empty_trading_days": True,
        }  # no live edge has run in this test

        with psycopg.connect(warehouse_url) as conn:  # a token the universe does not know is reported
            conn.execute("delete from tokens where token_id = (select token_id from trades limit 1)")
        unknown = dg.materialize(
            [trades, *trade_checks], partition_key=SIM_DAY_BEFORE, resources=resources(sim, warehouse_url)
        )
        assert {e.check_name: e.passed for e in unknown.get_asset_check_evaluations()}[
            "trades_tokens_known"
        ] is False


def test_resolutions_name_the_winning_token_and_update_markets(warehouse_url):
    with running_sim(markets=30, data_v1=False, history_hours=30.0) as sim:
        markets = seed_universe(warehouse_url, sim)
        meta = _materialize(market_resolutions, sim, warehouse_url)
        assert meta["resolutions_fetched"].value == len(markets)
        with psycopg.connect(warehouse_url) as conn:
            stored = {
                r[0]: r[1:]
                for r in conn.execute(
                    "select r.condition_id, r.status, r.winning_token_id, r.was_disputed, r.source, m.resolution_status,"
                    " m.winning_token_id from market_resolutions r join markets m using (condition_id)"
                ).fetchall()
            }
        resolved = 0
        for m in markets:
            truth = resolution(sim.sim, m["condition_id"])
            status, winner, disputed, source, m_status, m_winner = stored[m["condition_id"]]
            assert (status, disputed, source, m_status) == (
                truth["status"],
                truth["was_disputed"],
                "data_v2",
                status,
            )
            if truth["status"] == "resolved":
                resolved += 1
                won = m["token_ids"][truth["payouts"].index(1000000)]
                assert winner == m_winner == won
            else:
                assert winner is None
        assert resolved > 0
        rerun = _materialize(market_resolutions, sim, warehouse_url)
        assert rerun["rows_inserted"].value == 0


def test_a_backfilled_day_with_no_fills_while_its_markets_traded_is_flagged(warehouse_url):
    # pm_sim's history starts late on SIM_DAY_BEFORE: the day before it has no fills upstream, though the markets
    # (listed long before, trading after) would have traded: the partition is green and empty, the check is not.
    with running_sim(markets=20, trades_per_second=1.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("update markets set start_date = '2026-01-01'")
        assert _materialize(trades, sim, warehouse_url, SIM_DAY_BEFORE)["rows_inserted"].value > 0
        empty_day = "2026-11-18"
        checked = dg.materialize(
            [trades, *trade_checks], partition_key=empty_day, resources=resources(sim, warehouse_url)
        )
    assert checked.asset_materializations_for_node("trades")[0].metadata["rows_inserted"].value == 0
    [verdict] = [
        e for e in checked.get_asset_check_evaluations() if e.check_name == "trades_no_empty_trading_days"
    ]
    assert verdict.passed is False
    assert verdict.metadata["empty_days_while_markets_traded"].value == empty_day
    assert verdict.metadata["evidence"].value[empty_day]["markets_trading_around_it"] > 0
