"""The universe (events, markets, tokens) materialized against pm_sim in late-2026 mode."""

import dagster as dg
import pytest

from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.markets.checks import universe_checks
from pm_sim.testing import running_sim
from tests.support.universe import expected_universe, sim_resources, table_rows


def _materialize(sim, url, **options):
    result = dg.materialize(
        [events, markets_and_tokens, *universe_checks], resources=sim_resources(sim, url, **options)
    )
    assert result.success
    meta = {
        e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    return {k: {n: v.value for n, v in m.items()} for k, m in meta.items()}, checks


def test_every_market_of_both_generations_once_and_rerun_changes_nothing(warehouse_url, universe_snapshot):
    with running_sim(markets=80, seed=3) as sim:
        expected = expected_universe(sim)
        meta, checks = _materialize(sim, warehouse_url)
        first = universe_snapshot(warehouse_url)
        meta_again, _ = _materialize(sim, warehouse_url)
        second = universe_snapshot(warehouse_url)

    markets = {
        r[0]: r for r in table_rows(warehouse_url, "select condition_id, version, event_id from markets")
    }
    assert set(markets) == set(expected)
    assert {c: (v, e) for c, (_, v, e) in markets.items()} == {
        c: (x["version"], x["event_id"]) for c, x in expected.items()
    }
    tokens = table_rows(warehouse_url, "select token_id, condition_id, outcome_index, version from tokens")
    assert len(tokens) == len({t[0] for t in tokens})
    assert {(t[1], t[2]): t[0] for t in tokens} == {
        (c, i): tok for c, x in expected.items() for i, tok in enumerate(x["ids"])
    }
    assert all(t[3] == expected[t[1]]["version"] for t in tokens)
    # Both generations present and counted.
    versions = {x["version"] for x in expected.values()}
    assert versions == {"v1", "v2"}
    assert meta["markets"]["markets_v1"] + meta["markets"]["markets_v2"] == len(expected)
    assert meta["markets"]["markets_v2"] == sum(1 for x in expected.values() if x["version"] == "v2")
    assert meta["markets"]["rows_inserted"] == len(expected)
    # No 62-hex condition id anywhere; v2 ids are Gamma's 62-hex form + "00".
    short = table_rows(warehouse_url, "select count(*) from markets where condition_id !~ '^0x[0-9a-f]{64}$'")
    assert short == [(0,)]
    assert table_rows(warehouse_url, "select count(*) from tokens where length(condition_id) <> 66") == [(0,)]
    for m in sim.world.markets:
        if m.condition_id in expected and m.version == "v2":
            assert m.condition_id == m.gamma_condition_id.lower() + "00"
    # Re-running changes nothing, updated_at included.
    assert first == second
    assert meta_again["markets"]["rows_inserted"] == meta_again["markets"]["rows_updated"] == 0
    assert meta_again["tokens"]["rows_inserted"] == meta_again["tokens"]["rows_updated"] == 0
    assert meta_again["events"]["rows_inserted"] == meta_again["events"]["rows_updated"] == 0
    assert checks == {
        "markets_cover_every_generation": True,
        "market_prices_in_range": True,
        "markets_fresh": True,
    }


def test_negrisk_grouping_and_fee_schedule_are_kept(warehouse_url):
    with running_sim(markets=80, seed=3) as sim:
        _materialize(sim, warehouse_url)
        world = sim.world
    neg = table_rows(
        warehouse_url,
        "select e.event_id, e.neg_risk, e.neg_risk_market_id, count(*), bool_and(m.neg_risk_market_id = "
        "e.neg_risk_market_id) from events e join markets m using (event_id) where e.neg_risk group by 1, 2, 3",
    )
    sim_groups = {e.id: len(e.markets) for e in world.events if e.neg_risk}
    assert neg and all(row[4] for row in neg)
    assert {r[0] for r in neg} <= set(sim_groups)
    fees = table_rows(warehouse_url, "select condition_id, fees_enabled, fee_schedule from markets")
    by_condition = {m.condition_id: m for m in world.markets}
    for condition_id, enabled, schedule in fees:
        sim_schedule = by_condition[condition_id].fee_schedule
        assert enabled == bool(sim_schedule)
        if sim_schedule:
            assert schedule["rate"] == pytest.approx(float(sim_schedule["rate"]))
            assert schedule["exponent"] == pytest.approx(float(sim_schedule["exponent"]))
        else:
            assert schedule is None


def test_generation_check_fails_when_warehouse_lacks_v2(warehouse_url):
    with running_sim(markets=40, seed=5) as sim:
        _materialize(sim, warehouse_url)
        table_rows_delete = "delete from markets where version = 'v2' returning 1"
        assert table_rows(warehouse_url, table_rows_delete)
        result = dg.materialize(
            [markets_and_tokens, *universe_checks],
            resources=sim_resources(sim, warehouse_url),
            selection=dg.AssetSelection.checks(*universe_checks),
        )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["markets_cover_every_generation"].passed is False
    assert "v2" in checks["markets_cover_every_generation"].metadata["failures"].value
