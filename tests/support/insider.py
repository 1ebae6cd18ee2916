"""Hand-made warehouse rows for the insider-signal tests: ids, the `Rows` writer and its `rows` fixture (imported
by the conftest.py of tests/integration/signals_insider/ and tests/integration/watchlists/)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def wallet_address(n: int) -> str:
    return "0x" + f"{n:040x}"


def condition(n: int) -> str:
    return "0x" + f"{n:064x}"


def token(n: int, outcome: int = 0) -> str:
    return str(1000 * n + outcome)


class Rows:
    """Inserts markets, wallets, trades and book snapshots with only the columns a test cares about."""

    def __init__(self, url: str):
        self.conn = psycopg.connect(url, autocommit=True)
        self.n = 0

    def market(self, n: int, *, liquidity: float = 1_000_000, volume_24h: float = 1_000_000) -> str:
        cid = condition(n)
        self.conn.execute(
            "insert into markets (condition_id, market_id, liquidity, volume_24h) values (%s, %s, %s, %s)",
            (cid, str(n), liquidity, volume_24h),
        )
        for oc in (0, 1):
            self.conn.execute(
                "insert into tokens (token_id, condition_id, outcome, outcome_index, version) "
                "values (%s, %s, %s, %s, 'v1')",
                (token(n, oc), cid, "Yes" if oc == 0 else "No", oc),
            )
        return cid

    def wallet(self, n: int, first_activity_at: datetime | None, *, labels: tuple[str, ...] = ()) -> str:
        w = wallet_address(n)
        self.conn.execute(
            "insert into wallets (wallet, first_activity_at, labels) values (%s, %s, %s) "
            "on conflict (wallet) do update set first_activity_at = excluded.first_activity_at",
            (w, first_activity_at, list(labels)),
        )
        return w

    def trade(
        self,
        wallet: int,
        market: int,
        at: datetime,
        usdc: float,
        *,
        price: float = 0.5,
        side: str = "BUY",
        outcome: int = 0,
        ingested_at: datetime | None = None,
    ) -> str:
        self.n += 1
        fill_key = hashlib.sha1(f"{self.n}".encode()).hexdigest()
        self.conn.execute(
            "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price,"
            " size, outcome_index, source, ingested_at) values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'test',"
            " coalesce(%s, now()))",
            (
                at,
                fill_key,
                "0x" + fill_key,
                token(market, outcome),
                condition(market),
                wallet_address(wallet),
                side,
                price,
                round(usdc / price, 6),
                outcome,
                ingested_at,
            ),
        )
        return fill_key

    def book(
        self,
        market: int,
        at: datetime,
        *,
        asks: list[tuple[float, float]],
        bids: list[tuple[float, float]],
        outcome: int = 0,
    ) -> None:
        self.conn.execute(
            "insert into order_book_snapshots (captured_at, token_id, condition_id, bids, asks, best_bid, best_ask)"
            " values (%s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)",
            (
                at,
                token(market, outcome),
                condition(market),
                psycopg.types.json.Json([{"price": str(p), "size": str(s)} for p, s in bids]),
                psycopg.types.json.Json([{"price": str(p), "size": str(s)} for p, s in asks]),
                bids[0][0] if bids else None,
                asks[0][0] if asks else None,
            ),
        )


@pytest.fixture
def rows(warehouse_url: str):
    r = Rows(warehouse_url)
    yield r
    r.conn.close()


__all__ = ["T0", "Rows", "wallet_address", "condition", "token", "timedelta"]
