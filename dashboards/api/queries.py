"""Every statement the API runs: psycopg composition (identifiers quoted, values bound), keyset-paged.

Each listing orders by an indexed key plus a unique tie-breaker and pages with `key <= last AND (key, tie) <
(last, tie_last)`: the first predicate lets the index start at the cursor, the row comparison breaks ties, so a
deep page costs what the first one does. Exports run the same statements without a limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql

from dashboards.api.signal_tables import SignalTable


@dataclass
class Listing:
    """A statement under construction: WHERE clauses and their parameters, the sort key, the cursor kind."""

    select: sql.Composable
    order: list[tuple[str, bool, type]]  # (column, descending, Python type); the last column is unique
    kind: str
    where: list[sql.Composable] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key_types(self) -> tuple[type, ...]:
        return tuple(t for _c, _d, t in self.order)

    def filter(self, clause: str, **params: Any) -> None:
        self.where.append(sql.SQL(clause))  # type: ignore[arg-type]  # literal fragments of this module only
        self.params.update(params)

    def equal(self, column: str, value: Any) -> None:
        if value is not None:
            name = f"eq_{column}"
            self.where.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(name)))
            self.params[name] = value

    def between(self, column: str, since: datetime | None, until: datetime | None) -> None:
        if since is not None:
            self.where.append(sql.SQL("{} >= %(since)s").format(sql.Identifier(column)))
            self.params["since"] = since
        if until is not None:
            self.where.append(sql.SQL("{} < %(until)s").format(sql.Identifier(column)))
            self.params["until"] = until

    def after(self, values: list[Any]) -> None:
        """Rows past the cursor's key in this listing's order (all keys share one direction)."""
        cols = [sql.Identifier(c) for c, _d, _t in self.order]
        descending = self.order[0][1]
        op = sql.SQL("<" if descending else ">")
        names = [f"k{i}" for i in range(len(values))]
        self.params.update(zip(names, values, strict=True))
        self.where.append(
            sql.SQL("{} {}= {}").format(cols[0], op, sql.Placeholder(names[0]))  # the index's entry point
        )
        self.where.append(
            sql.SQL("({}) {} ({})").format(
                sql.SQL(", ").join(cols), op, sql.SQL(", ").join(sql.Placeholder(n) for n in names)
            )
        )

    def statement(self, limit: int | None) -> sql.Composed:
        where = sql.SQL(" where ") + sql.SQL(" and ").join(self.where) if self.where else sql.SQL("")
        order = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL("desc" if d else "asc"))
            for c, d, _t in self.order
        )
        tail = sql.SQL(" limit {}").format(sql.Literal(limit)) if limit is not None else sql.SQL("")
        return sql.Composed([self.select, where, sql.SQL(" order by "), order, tail])


def signals(kind: SignalTable) -> Listing:
    select = sql.SQL("select * from {}").format(sql.Identifier(kind.table))
    return Listing(
        select, [(kind.time_column, True, datetime), ("signal_key", True, str)], f"signals:{kind.signal_type}"
    )


TRADE_COLUMNS = (
    "traded_at",
    "fill_key",
    "transaction_hash",
    "token_id",
    "condition_id",
    "wallet",
    "side",
    "outcome",
    "outcome_index",
    "price",
    "size",
    "usdc_size",
    "is_taker",
    "source",
    "ingested_at",
)


def trades(by: str) -> Listing:
    """A market's (by="condition_id") or a wallet's (by="wallet") trades, newest first."""
    select = sql.SQL("select {} from trades").format(sql.SQL(", ").join(map(sql.Identifier, TRADE_COLUMNS)))
    return Listing(select, [("traded_at", True, datetime), ("fill_key", True, str)], f"trades:{by}")


MARKET_COLUMNS = (
    "condition_id",
    "market_id",
    "event_id",
    "version",
    "slug",
    "question",
    "active",
    "closed",
    "neg_risk",
    "volume",
    "volume_24h",
    "liquidity",
    "best_bid",
    "best_ask",
    "spread",
    "last_trade_price",
    "start_date",
    "end_date",
    "resolution_status",
    "winning_token_id",
    "tags",
    "updated_at",
)


def markets() -> Listing:
    select = sql.SQL("select {} from markets").format(sql.SQL(", ").join(map(sql.Identifier, MARKET_COLUMNS)))
    return Listing(select, [("condition_id", False, str)], "markets")


MARKET_TOKENS = "select token_id, outcome, outcome_index, version, winner from tokens where condition_id = %s order by outcome_index"
MARKET_EVENT = "select event_id, slug, title, tags from events where event_id = %s"

WALLET_COLUMNS = (
    "wallet",
    "first_activity_at",
    "first_seen_at",
    "last_seen_at",
    "trade_count",
    "volume_usdc",
    "labels",
)


def wallets() -> Listing:
    select = sql.SQL("select {} from wallets").format(sql.SQL(", ").join(map(sql.Identifier, WALLET_COLUMNS)))
    return Listing(select, [("wallet", False, str)], "wallets")


def watchlists() -> Listing:
    """Watchlists by id, each with how many wallets it holds (the correlated count uses the list's key)."""
    select = sql.SQL(
        "select * from (select l.watchlist_id, l.name, l.min_position_usdc, (select count(*) from"
        " watchlist_wallets w where w.watchlist_id = l.watchlist_id) as wallet_count, l.created_at,"
        " l.updated_at from watchlists l) l"
    )
    return Listing(select, [("watchlist_id", False, int)], "watchlists")


def watchlist_wallets() -> Listing:
    """The wallets of lists (filter on watchlist_id), by address: the primary key's order within one list."""
    select = sql.SQL("select watchlist_id, wallet, label, note, added_at from watchlist_wallets")
    return Listing(select, [("wallet", False, str)], "watchlist_wallets")


WATCHLIST_EXISTS = "select 1 from watchlists where watchlist_id = %s"


# Rule names are readable by the reader role; webhook URLs are not (and are never selected here).
def deliveries() -> Listing:
    select = sql.SQL(
        "select * from (select d.delivery_id, d.rule_id, r.name as rule, d.signal_table, d.signal_key, d.status,"
        " d.attempts, d.last_status_code, d.last_error, d.upstream_at, d.signal_at, d.created_at,"
        " d.first_attempt_at, d.delivered_at from alert_deliveries d join alert_rules r on r.rule_id = d.rule_id) d"
    )
    return Listing(select, [("delivery_id", True, int)], "deliveries")


def scorecard() -> Listing:
    select = sql.SQL(
        "select signal_table, signal_key, horizon, condition_id, direction_token_id, price_at_signal,"
        " price_at_horizon, move_in_direction, correct, paper_profit, scored_at from signal_scorecard"
    )
    return Listing(
        select,
        [("signal_table", False, str), ("signal_key", False, str), ("horizon", False, str)],
        "scorecard",
    )
