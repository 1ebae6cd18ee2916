"""Hand-made warehouse rows for the market-signal tests: markets, events, books, ticks, trades, resolutions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.resources.warehouse import WarehouseResource

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def condition(n: int) -> str:
    return "0x" + f"{n:064x}"


def token(n: int, outcome: int = 0) -> str:
    return str(1000 * n + outcome)


def _levels(levels):
    return Jsonb([{"price": str(p), "size": str(s)} for p, s in levels])


class World:
    """Inserts rows with only the columns a test cares about (autocommit)."""

    def __init__(self, url: str):
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)
        self.n = 0

    def event(self, event_id: str, *, neg_risk: bool = True, augmented: bool = False) -> str:
        self.conn.execute(
            "insert into events (event_id, neg_risk, neg_risk_augmented) values (%s, %s, %s)",
            (event_id, neg_risk, augmented),
        )
        return event_id

    def market(
        self,
        n: int,
        *,
        event_id: str | None = None,
        neg_risk: bool = False,
        fee_schedule=None,
        end_date: datetime | None = None,
        volume_24h: float = 10_000,
        liquidity: float = 5_000,
        spread: float = 0.02,
        neg_risk_other: bool = False,
        has_book: bool = True,
    ) -> str:
        cid = condition(n)
        self.conn.execute(
            "insert into markets (condition_id, market_id, event_id, neg_risk, neg_risk_other, fee_schedule,"
            " fees_enabled, end_date, volume_24h, liquidity, spread, accepting_orders, closed, question)"
            " values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,true,false,%s)",
            (
                cid,
                str(n),
                event_id,
                neg_risk,
                neg_risk_other,
                Jsonb(fee_schedule) if fee_schedule else None,
                fee_schedule is not None,
                end_date,
                volume_24h,
                liquidity,
                spread,
                f"Market {n}?",
            ),
        )
        for oc in (0, 1):
            self.conn.execute(
                "insert into tokens (token_id, condition_id, outcome, outcome_index, version, has_book)"
                " values (%s, %s, %s, %s, 'v1', %s)",
                (token(n, oc), cid, "Yes" if oc == 0 else "No", oc, has_book),
            )
        return cid

    def ws_book(self, n: int, outcome: int, at: datetime, bids, asks, ltp: float | None = None) -> None:
        self.n += 1
        self.conn.execute(
            "insert into ws_book_snapshots (server_ts, token_id, book_hash, condition_id, received_at, bids, asks,"
            " last_trade_price) values (%s,%s,%s,%s,%s,%s,%s,%s)",
            (at, token(n, outcome), f"h{self.n}", condition(n), at, _levels(bids), _levels(asks), ltp),
        )

    def rest_book(self, n: int, outcome: int, at: datetime, bids, asks) -> None:
        """Stored as the books asset stores them: compact [price, size] pairs, best first (numbers)."""
        self.conn.execute(
            "insert into order_book_snapshots (captured_at, token_id, condition_id, bids, asks) values (%s,%s,%s,%s,%s)",
            (
                at,
                token(n, outcome),
                condition(n),
                Jsonb([[float(p), float(q)] for p, q in sorted(bids, key=lambda level: -float(level[0]))]),
                Jsonb([[float(p), float(q)] for p, q in sorted(asks, key=lambda level: float(level[0]))]),
            ),
        )

    def change(self, n: int, outcome: int, at: datetime, side: str, price: float, size: float) -> None:
        self.n += 1
        self.conn.execute(
            "insert into ws_price_changes (server_ts, token_id, side, price, change_hash, condition_id, size,"
            " received_at) values (%s,%s,%s,%s,%s,%s,%s,%s)",
            (at, token(n, outcome), side, price, f"c{self.n}", condition(n), size, at),
        )

    def trade(
        self,
        n: int,
        outcome: int,
        at: datetime,
        price: float,
        size: float,
        *,
        side: str = "BUY",
        wallet: int = 1,
    ) -> str:
        self.n += 1
        fill_key = hashlib.sha1(f"{self.n}".encode()).hexdigest()
        self.conn.execute(
            "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price,"
            " size, outcome_index, source) values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'test')",
            (
                at,
                fill_key,
                "0x" + fill_key,
                token(n, outcome),
                condition(n),
                "0x" + f"{wallet:040x}",
                side,
                price,
                size,
                outcome,
            ),
        )
        return fill_key

    def price_point(self, n: int, outcome: int, at: datetime, price: float) -> None:
        self.conn.execute(
            "insert into price_points (token_id, ts, price) values (%s,%s,%s)", (token(n, outcome), at, price)
        )

    def resolve(self, n: int, winner: int, at: datetime, *, disputed: bool = False) -> None:
        self.conn.execute(
            "insert into market_resolutions (condition_id, status, winning_token_id, was_disputed, resolved_at,"
            " source) values (%s, 'resolved', %s, %s, %s, 'test')",
            (condition(n), token(n, winner), disputed, at),
        )
        self.conn.execute(
            "update tokens set winner = (outcome_index = %s) where condition_id = %s", (winner, condition(n))
        )

    def dispute(self, n: int) -> None:
        self.conn.execute(
            "insert into market_resolutions (condition_id, status, was_disputed, source) values (%s,'disputed',true,'t')"
            " on conflict (condition_id) do update set was_disputed = true",
            (condition(n),),
        )

    def rows(self, table: str) -> list[dict]:
        with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            return cur.execute(f"select * from {table}").fetchall()  # noqa: S608 (test-only, fixed names)


def materialize(assets, url: str, run_config: dict | None = None):
    return dg.materialize(
        assets, resources={"warehouse": WarehouseResource(database_url=url)}, run_config=run_config or {}
    )


__all__ = ["T0", "World", "condition", "token", "timedelta", "materialize"]
