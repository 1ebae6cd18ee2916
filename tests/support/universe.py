"""Helpers for the universe ingestion tests: resources bound to a pm_sim and the warehouse, table snapshots."""

from __future__ import annotations

import psycopg

from pm_assets.resources.clob import ClobClient
from pm_assets.resources.gamma import GammaClient
from pm_assets.resources.warehouse import WarehouseResource


def sim_resources(sim, warehouse_url: str, **gamma_options) -> dict:
    # Fast retries: pm_sim's faults are probabilistic, tests should not sleep through real backoffs.
    fast = {"max_backoff_s": 0.05, "timeout_s": 15.0}
    return {
        "warehouse": WarehouseResource(database_url=warehouse_url),
        "gamma": GammaClient(base_url=sim.gamma_url, **{**fast, **gamma_options}),
        "clob": ClobClient(base_url=sim.clob_url, **fast),
    }


def table_rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def expected_universe(sim) -> dict[str, dict]:
    """pm_sim's own record of the markets listed now: condition id -> (version, outcome ids, event id)."""
    now = sim.sim.now()
    out = {}
    for m in sim.world.markets:
        if m.created_at > now:
            continue
        ids = (m.position_ids or m.token_ids) if m.version == "v2" else m.token_ids
        out[m.condition_id] = {
            "version": "v2" if m.version == "v2" else "v1",
            "ids": list(ids),
            "event_id": sim.world.events[m.event_idx].id,
            "neg_risk": m.neg_risk,
        }
    return out
