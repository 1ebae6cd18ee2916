"""The Watchlists page's statements: lists and their wallets read as the reader role, written as the editor.

Positions and P&L come from the warehouse's trades of the list's wallets (trades_wallet_time_idx), average cost:
a token's entry is its bought USDC over its bought shares; realised P&L is what sales took in above that cost,
unrealised is the open shares marked at the latest price (a resolved token at 1 or 0, else its latest price
point, else its latest trade). A token only sold (bought elsewhere: a split, a transfer) has no known cost and no
P&L. Writes are never cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
import streamlit as st
from sqlalchemy import text

from dashboards import db
from dashboards.queries import LIVE_TTL, frame, signal_select
from dashboards.signal_types import SIGNAL_TYPES
from pm_assets.wallets.watchlists import Entry

WATCHLISTS = text("""
    select l.watchlist_id, l.name, l.min_position_usdc, count(w.wallet) as wallets, l.created_at
    from watchlists l left join watchlist_wallets w using (watchlist_id)
    group by l.watchlist_id order by l.name""")

MEMBERS = text("""
    with members as (
        select wallet, label, note, added_at from watchlist_wallets where watchlist_id = :watchlist_id),
    pos as (
        select t.wallet, t.token_id,
               coalesce(sum(t.size) filter (where t.side = 'BUY'), 0) as bought,
               coalesce(sum(t.usdc_size) filter (where t.side = 'BUY'), 0) as bought_usdc,
               coalesce(sum(t.size) filter (where t.side = 'SELL'), 0) as sold,
               coalesce(sum(t.usdc_size) filter (where t.side = 'SELL'), 0) as sold_usdc,
               count(*) as trades, max(t.traded_at) as last_trade_at,
               count(*) filter (where t.traded_at > now() - interval '7 days') as trades_7d
        from members m join trades t on t.wallet = m.wallet group by t.wallet, t.token_id),
    marked as (
        select p.*, case when p.bought > 0 then p.bought_usdc / p.bought end as entry,
               case when tk.winner is true then 1.0 when tk.winner is false then 0.0
                    else coalesce(pp.price, lt.price) end as mark
        from pos p
        left join tokens tk on tk.token_id = p.token_id
        left join lateral (select price from price_points where token_id = p.token_id
                           order by ts desc limit 1) pp on true
        left join lateral (select price from trades where token_id = p.token_id
                           order by traded_at desc limit 1) lt on true),
    per_wallet as (
        select wallet, count(*) filter (where bought - sold > 1e-9) as open_positions,
               sum(trades) as trades, sum(trades_7d) as trades_7d, max(last_trade_at) as last_trade_at,
               sum(sold_usdc - sold * entry) filter (where entry is not null) as realised_pnl,
               sum(greatest(bought - sold, 0) * (mark - entry))
                   filter (where entry is not null and mark is not null) as unrealised_pnl,
               sum(greatest(bought - sold, 0) * mark) filter (where mark is not null) as open_value
        from marked group by wallet),
    signals as (
        select wallet, count(*) filter (where suppressed_reason is null) as watch_alerts
        from watched_wallet_trades where wallet in (select wallet from members) group by wallet)
    select m.wallet, m.label, w.first_activity_at, coalesce(p.open_positions, 0) as open_positions,
           round(p.realised_pnl::numeric, 2)::float8 as realised_pnl,
           round(p.unrealised_pnl::numeric, 2)::float8 as unrealised_pnl,
           round(p.open_value::numeric, 2)::float8 as open_value,
           coalesce(p.trades, 0) as trades, coalesce(p.trades_7d, 0) as trades_7d, p.last_trade_at,
           coalesce(s.watch_alerts, 0) as watch_alerts, m.note, m.added_at
    from members m
    left join wallets w on w.wallet = m.wallet
    left join per_wallet p on p.wallet = m.wallet
    left join signals s on s.wallet = m.wallet
    order by p.last_trade_at desc nulls last, m.wallet""")

LIST_TRADES = text("""
    select t.traded_at, t.wallet, ww.label, mk.question as market, t.side, t.outcome, t.price, t.size,
           t.usdc_size, t.condition_id
    from watchlist_wallets ww
    cross join lateral (select * from trades t where t.wallet = ww.wallet
                        order by t.traded_at desc limit :limit) t
    left join markets mk on mk.condition_id = t.condition_id
    where ww.watchlist_id = :watchlist_id
    order by t.traded_at desc limit :limit""")


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def watchlists() -> pd.DataFrame:
    return frame(WATCHLISTS)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def members(watchlist_id: int) -> pd.DataFrame:
    return frame(MEMBERS, watchlist_id=watchlist_id)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def list_trades(watchlist_id: int, limit: int = 200) -> pd.DataFrame:
    return frame(LIST_TRADES, watchlist_id=watchlist_id, limit=limit)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def list_signals(watchlist_id: int, since: datetime, limit: int = 500) -> dict[str, pd.DataFrame]:
    """Each wallet signal table's rows of the list's wallets, newest first, with evidence in words."""
    out = {}
    for kind in (k for k in SIGNAL_TYPES if k.has_wallet):
        stmt = signal_select(kind.table, market=False, wallet=False, suppressed="show").where(
            sa.text("s.wallet in (select wallet from watchlist_wallets where watchlist_id = :watchlist_id)")
        )
        rows = frame(stmt, since=since, limit=limit, watchlist_id=watchlist_id)
        if not rows.empty:
            rows.insert(0, "evidence_words", [kind.evidence_words(r) for r in rows.to_dict("records")])
            rows.insert(0, "at", rows[kind.time_column])
        out[kind.label] = rows
    return out


@dataclass(frozen=True)
class Saved:
    watchlist_id: int
    created: bool
    added: list[str]
    already: list[str]  # on the list before: their label and note are updated where given


def save_wallets(name: str, min_position_usdc: float | None, entries: Sequence[Entry]) -> Saved:
    """Creates the list when new (or sets its size when given) and adds the entries, in one transaction."""
    with db.editor().begin() as conn:
        row = conn.execute(
            text("""
                insert into watchlists (name, min_position_usdc) values (:name, :size)
                on conflict (name) do update
                    set min_position_usdc = coalesce(excluded.min_position_usdc, watchlists.min_position_usdc),
                        updated_at = now()
                returning watchlist_id, (xmax = 0) as created"""),
            {"name": name, "size": min_position_usdc},
        ).one()
        added: list[str] = []
        already: list[str] = []
        if entries:
            result = conn.execute(
                text("""
                    insert into watchlist_wallets (watchlist_id, wallet, label, note)
                    select :watchlist_id, w, l, n
                    from unnest(cast(:wallets as text[]), cast(:labels as text[]), cast(:notes as text[]))
                         as x(w, l, n)
                    on conflict (watchlist_id, wallet) do update
                        set label = coalesce(excluded.label, watchlist_wallets.label),
                            note = coalesce(excluded.note, watchlist_wallets.note)
                    returning wallet, (xmax = 0) as inserted"""),
                {
                    "watchlist_id": row.watchlist_id,
                    "wallets": [e.wallet for e in entries],
                    "labels": [e.label for e in entries],
                    "notes": [e.note for e in entries],
                },
            )
            for wallet, inserted in result:
                (added if inserted else already).append(wallet)
    return Saved(int(row.watchlist_id), bool(row.created), added, already)


def remove_wallet(watchlist_id: int, wallet: str) -> bool:
    with db.editor().begin() as conn:
        result = conn.execute(
            text("delete from watchlist_wallets where watchlist_id = :watchlist_id and wallet = :wallet"),
            {"watchlist_id": watchlist_id, "wallet": wallet},
        )
    return result.rowcount > 0


LISTS_OF = text("""
    select l.name from watchlist_wallets w join watchlists l using (watchlist_id)
    where w.wallet = :wallet order by l.name""")


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def lists_of(wallet: str) -> list[str]:
    return frame(LISTS_OF, wallet=wallet)["name"].tolist()
