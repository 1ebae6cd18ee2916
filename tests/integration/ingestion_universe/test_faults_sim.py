"""Under pm_sim's faults (429 storms, 5xx, hangs, malformed, truncated and drifted bodies) the universe still
ends with every good row exactly once, bad bodies quarantined with their errors, and metadata that says so."""

import dagster as dg

from pm_assets.books.assets import order_book_snapshots
from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.resources.clob import ClobClient
from pm_sim.testing import running_sim
from tests.support.universe import expected_universe, sim_resources, table_rows

FAULTS = "rate_storm=0.15,5xx=0.15,hang=0.03,malformed=0.1,truncate=0.1,drift=0.3,retry_after=0"


def test_universe_under_faults_is_complete_and_quarantines_bad_bodies(warehouse_url, universe_snapshot):
    options = {"timeout_s": 1.5, "max_attempts": 12, "payload_attempts": 8, "page_size": 10}
    with running_sim(markets=50, seed=21, faults=FAULTS) as sim:
        expected = expected_universe(sim)
        result = dg.materialize(
            [events, markets_and_tokens], resources=sim_resources(sim, warehouse_url, **options)
        )
        assert result.success
        sim.set_faults()  # a clean run to compare with
    meta = {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }

    markets = dict(table_rows(warehouse_url, "select condition_id, version from markets"))
    assert markets == {c: x["version"] for c, x in expected.items()}
    tokens = table_rows(warehouse_url, "select condition_id, outcome_index, token_id from tokens")
    assert {(c, i): t for c, i, t in tokens} == {
        (c, i): t for c, x in expected.items() for i, t in enumerate(x["ids"])
    }
    assert len(tokens) == sum(len(x["ids"]) for x in expected.values())

    quarantined = table_rows(
        warehouse_url, "select source, endpoint, error, body from raw_payloads where quarantined"
    )
    assert quarantined and all(q[0] == "gamma" and q[2] for q in quarantined)
    assert any("not valid JSON" in q[2] for q in quarantined)
    faults_seen = meta["markets"]["http_429"] + meta["events"]["http_429"]
    assert faults_seen > 0
    assert meta["markets"]["http_5xx"] + meta["events"]["http_5xx"] > 0
    assert meta["markets"]["retries"] > 0
    assert meta["markets"]["quarantined"] + meta["events"]["quarantined"] == len(quarantined)


def test_book_snapshots_under_faults(warehouse_url):
    with running_sim(markets=30, seed=22) as sim:
        resources = sim_resources(sim, warehouse_url, timeout_s=1.5, max_attempts=12)
        assert dg.materialize([events, markets_and_tokens], resources=resources).success
        clean_tokens = {
            t
            for (t,) in table_rows(
                warehouse_url,
                "select t.token_id from tokens t join markets m using (condition_id) "
                "where not m.closed and m.enable_order_book and m.accepting_orders",
            )
        }
        sim.set_faults(rate_storm=0.2, **{"5xx": 0.2}, malformed=0.2, drift=0.3, retry_after=0)
        resources["clob"] = ClobClient(
            base_url=sim.clob_url,
            books_batch=7,
            max_attempts=12,
            payload_attempts=10,
            max_backoff_s=0.05,
            timeout_s=15.0,
        )
        result = dg.materialize([order_book_snapshots], resources=resources)
    assert result.success
    stored = {t for (t,) in table_rows(warehouse_url, "select token_id from order_book_snapshots")}
    assert stored == clean_tokens
    assert (
        table_rows(warehouse_url, "select count(*) from raw_payloads where quarantined and source = 'clob'")[
            0
        ][0]
        > 0
    )
