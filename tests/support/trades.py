"""Helpers for the trade ingestion tests: seed the market universe from pm_sim, compare with its record."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import psycopg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from tests import loopback

SIM_DAY_BEFORE = "2026-11-19"  # pm_sim's default clock starts 2026-11-20 00:00 UTC with 2 h of history
SIM_DAY = "2026-11-20"


def seed_universe(database_url: str, sim) -> list[dict]:
    """markets + tokens as the universe asset would write them (66-character condition ids)."""
    markets = loopback.get(sim.admin_url + "/markets", params={"list": 1}).json()["list"]
    with psycopg.connect(database_url) as conn:
        for m in markets:
            conn.execute(
                "insert into markets (condition_id, market_id, version) values (%s, %s, %s)",
                (m["condition_id"], m["id"], m["version"] or "v1"),
            )
            for i, token in enumerate(m["token_ids"]):
                conn.execute(
                    "insert into tokens (token_id, condition_id, outcome_index, outcome, version) "
                    "values (%s, %s, %s, %s, %s)",
                    (
                        token,
                        m["condition_id"],
                        i,
                        ["Yes", "No"][i] if i < 2 else str(i),
                        m["version"] or "v1",
                    ),
                )
    return markets


def emitted_fills(sim, start: float = 0, end: float = 1e12) -> Counter:
    """pm_sim's own record of the taker fills it served, as a multiset of identifying fields."""
    out = loopback.get(
        sim.admin_url + "/emitted/trades", params={"start": start, "end": end, "rows": 1}
    ).json()
    return Counter(tuple(line.split("|")[:7]) for line in out["rows"])


def stored_fills(database_url: str) -> Counter:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select transaction_hash, token_id, wallet, side, price, size, extract(epoch from traded_at)::bigint "
            "from trades"
        ).fetchall()
    return Counter((tx, tok, w, side, repr(p), repr(s), str(ts)) for tx, tok, w, side, p, s, ts in rows)


def scalar(database_url: str, statement: str, params: tuple = ()) -> object:
    with psycopg.connect(database_url) as conn:
        return conn.execute(statement, params).fetchone()[0]


def resources(sim, database_url: str, **client) -> dict:
    return {
        "data_api": DataApiClient(base_url=sim.data_url, **client),
        "warehouse": WarehouseResource(database_url=database_url),
    }


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
