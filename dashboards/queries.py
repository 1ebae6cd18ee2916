"""Every SQL statement the dashboards run: SQLAlchemy Core with bound parameters, reads cached briefly.

Reads go through the read-only reader engine and `st.cache_data` with short TTLs (the sidebar's Refresh button
clears them). Writes (alert rules, threshold overrides) go through the editor engine and are never cached.
Each read is shaped to use an index or a rollup of revision 0008; bench/bench_dashboards.py times them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
import streamlit as st
from sqlalchemy import Engine, text

from dashboards import db
from dashboards.signal_types import BY_TABLE, SIGNAL_TYPES

LIVE_TTL = 15
PAGE_TTL = 60


def frame(stmt, engine: Engine | None = None, **params) -> pd.DataFrame:
    with (engine or db.reader()).connect() as conn:
        result = conn.execute(stmt, params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def like_pattern(term: str) -> str:
    """A contains-pattern for ILIKE ... ESCAPE '\\': the user's % and _ match themselves."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---- overview -------------------------------------------------------------------------------------------

LATEST_RANKINGS = text("""
    select r.rank, r.score, m.question, r.condition_id, e.slug as event_slug, m.volume_24h, m.liquidity,
           m.spread, r.components, r.ranked_at
    from market_rankings r
    join markets m on m.condition_id = r.condition_id
    left join events e on e.event_id = m.event_id
    where r.ranked_at = (select max(ranked_at) from market_rankings)
    order by r.rank limit :limit""")

# One hash aggregate by wallet (count(distinct) would sort a day of trades, spilling to disk at scale).
TRADES_24H = text("""
    select coalesce(sum(n), 0) as trades, coalesce(sum(v), 0) as volume_usdc, count(*) as wallets
    from (select wallet, count(*) as n, sum(usdc_size) as v from trades
          where traded_at >= now() - interval '24 hours' group by wallet) w""")

LIVE_ARBITRAGE = text("""
    select a.*, coalesce(m.question, e.title) as market
    from arbitrage_windows a
    left join markets m on m.condition_id = a.condition_id
    left join events e on e.event_id = a.event_id
    where a.closed_at is null order by a.opened_at desc limit 200""")

# When Dagster's storage is unreachable: the newest row each table holds, each read through an index
# (ingested_at, captured_at, the signal time indexes) or a small table.
TABLE_FRESHNESS = text("""
    select 'trades' as asset, (select max(ingested_at) from trades) as last_update
    union all select 'markets', (select max(updated_at) from markets)
    union all select 'events', (select max(updated_at) from events)
    union all select 'order_book_snapshots', (select max(captured_at) from order_book_snapshots)
    union all select 'market_resolutions', (select max(updated_at) from market_resolutions)
    union all select 'fresh_wallet_trades', (select max(traded_at) from fresh_wallet_trades)
    union all select 'arbitrage_windows', (select max(opened_at) from arbitrage_windows)
    union all select 'price_spikes', (select max(window_end) from price_spikes)
    union all select 'market_rankings', (select max(ranked_at) from market_rankings)
    union all select 'stream_health', (select max(started_at) from stream_health)
    union all select 'dashboard_rollups', (select max(refreshed_at) from rollup_watermarks)""")

DAGSTER_ASSETS = text("""
    select asset_key, last_materialization_timestamp, last_run_id from asset_keys
    where wipe_timestamp is null order by asset_key""")

DAGSTER_RUNS = text("""
    select run_id, pipeline_name as job, status, to_timestamp(start_time) as started_at,
           to_timestamp(end_time) as ended_at, create_timestamp
    from runs order by id desc limit :limit""")


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def latest_rankings(limit: int = 25) -> pd.DataFrame:
    return frame(LATEST_RANKINGS, limit=limit)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def trades_24h() -> dict:
    return frame(TRADES_24H).iloc[0].to_dict()


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def live_arbitrage() -> pd.DataFrame:
    return frame(LIVE_ARBITRAGE)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def freshness() -> tuple[str, pd.DataFrame]:
    """(source, frame of asset, last_update): Dagster's materializations if reachable, else the tables."""
    engine = db.dagster()
    if engine is not None:
        try:
            assets = frame(DAGSTER_ASSETS, engine)
            assets["asset"] = assets["asset_key"].str.strip('[]"').str.replace('", "', "/")
            # Dagster stores naive UTC timestamps.
            assets["last_update"] = pd.to_datetime(
                assets.pop("last_materialization_timestamp")
            ).dt.tz_localize(UTC)
            return "dagster", assets[["asset", "last_update", "last_run_id"]]
        except sa.exc.SQLAlchemyError:
            pass
    return "tables", frame(TABLE_FRESHNESS)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def dagster_runs(limit: int = 50) -> pd.DataFrame | None:
    engine = db.dagster()
    if engine is None:
        return None
    try:
        return frame(DAGSTER_RUNS, engine, limit=limit)
    except sa.exc.SQLAlchemyError:
        return None


# ---- signals (table-driven: one SignalType line adds a table everywhere) --------------------------------


def signal_select(table: str, *, market: bool, wallet: bool, suppressed: str):
    kind = BY_TABLE[table]
    cols = [sa.column(kind.time_column), sa.column("suppressed_reason")]
    cols += [sa.column("condition_id")] if kind.has_market else []
    cols += [sa.column("token_id")] if kind.has_token else []
    cols += [sa.column("wallet")] if kind.has_wallet else []
    cols += [sa.column("event_id")] if kind.has_event else []
    sig = sa.table(kind.table, *cols).alias("s")
    stmt = sa.select(sa.literal_column("s.*"))
    source = sig
    if kind.has_market:
        m = sa.table("markets", sa.column("condition_id"), sa.column("question")).alias("m")
        source = source.outerjoin(m, m.c.condition_id == sig.c.condition_id)
        label = m.c.question
        if kind.has_event:
            e = sa.table("events", sa.column("event_id"), sa.column("title")).alias("e")
            source = source.outerjoin(e, e.c.event_id == sig.c.event_id)
            label = sa.func.coalesce(m.c.question, e.c.title)
        stmt = stmt.add_columns(label.label("market"))
        if market:
            stmt = stmt.where(sig.c.condition_id == sa.bindparam("condition_id"))
    if kind.has_token:
        tk = sa.table("tokens", sa.column("token_id"), sa.column("outcome")).alias("tk")
        source = source.outerjoin(tk, tk.c.token_id == sig.c.token_id)
        stmt = stmt.add_columns(tk.c.outcome)
    if wallet:
        stmt = stmt.where(sig.c.wallet == sa.bindparam("wallet"))
    if suppressed == "hide":
        stmt = stmt.where(sig.c.suppressed_reason.is_(None))
    elif suppressed == "only":
        stmt = stmt.where(sig.c.suppressed_reason.is_not(None))
    time_col = sig.c[kind.time_column]
    return (
        stmt.select_from(source)
        .where(time_col >= sa.bindparam("since"))
        .order_by(time_col.desc())
        .limit(sa.bindparam("limit"))
    )


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def signals(
    table: str,
    *,
    since: datetime,
    condition_id: str | None = None,
    wallet: str | None = None,
    suppressed: str = "show",
    limit: int = 500,
) -> pd.DataFrame:
    """Rows of one signal table, newest first, with an `evidence_words` column a person reads."""
    kind = BY_TABLE[table]
    if wallet is not None and not kind.has_wallet or condition_id is not None and not kind.has_market:
        return pd.DataFrame()
    stmt = signal_select(
        table, market=condition_id is not None, wallet=wallet is not None, suppressed=suppressed
    )
    params = {"since": since, "limit": limit}
    params.update({"condition_id": condition_id} if condition_id is not None else {})
    params.update({"wallet": wallet} if wallet is not None else {})
    rows = frame(stmt, **params)
    if not rows.empty:
        rows.insert(0, "evidence_words", [kind.evidence_words(r) for r in rows.to_dict("records")])
    return rows


def _wallet_signal_keys():
    parts = [
        sa.select(
            sa.literal(t.table).label("signal_table"), sa.column("signal_key"), sa.column("wallet")
        ).select_from(sa.table(t.table))
        for t in SIGNAL_TYPES
        if t.has_wallet
    ]
    return sa.union_all(*parts).subquery("ws")


# ---- markets --------------------------------------------------------------------------------------------

SEARCH_MARKETS = text("""
    select m.question, e.title as event, m.version, m.active, m.closed, m.volume, m.volume_24h, m.liquidity,
           m.spread, m.best_bid, m.best_ask, m.condition_id, e.slug as event_slug
    from markets m left join events e on e.event_id = m.event_id
    where (cast(:pattern as text) is null or m.question ilike :pattern escape '\\'
           or m.slug ilike :pattern escape '\\' or m.condition_id = lower(:term))
      and (cast(:event_pattern as text) is null or e.title ilike :event_pattern escape '\\'
           or e.slug ilike :event_pattern escape '\\')
      and (cast(:tag as text) is null or jsonb_exists(m.tags, :tag)
           or m.tags @> jsonb_build_array(jsonb_build_object('label', cast(:tag as text)))
           or e.tags @> jsonb_build_array(jsonb_build_object('label', cast(:tag as text))))
      and (cast(:status as text) = 'all' or (:status = 'active' and m.active and not coalesce(m.closed, false))
           or (:status = 'closed' and m.closed))
      and coalesce(m.volume, 0) >= :min_volume and coalesce(m.liquidity, 0) >= :min_liquidity
      and (cast(:max_spread as double precision) is null or m.spread <= :max_spread)
    order by m.volume desc nulls last limit :limit""")

TAGS = text("""
    select distinct coalesce(t ->> 'label', t #>> '{}') as tag
    from events, jsonb_array_elements(tags) t order by 1 limit 500""")

MARKET = text("""
    select m.*, e.title as event_title, e.slug as event_slug from markets m
    left join events e on e.event_id = m.event_id where m.condition_id = :condition_id""")

MARKET_TOKENS = text(
    "select token_id, outcome, outcome_index, winner from tokens"
    " where condition_id = :condition_id order by outcome_index"
)

PRICE_HISTORY = text("""
    select ts, price from price_points where token_id = :token_id and ts >= :since order by ts""")

LATEST_BOOK = text("""
    select captured_at, best_bid, best_ask, spread, bids, asks from order_book_snapshots
    where token_id = :token_id order by captured_at desc limit 1""")

MARKET_TRADES = text("""
    select t.traded_at, t.wallet, t.side, t.outcome, t.price, t.size, t.usdc_size, t.transaction_hash
    from trades t where t.condition_id = :condition_id order by t.traded_at desc limit :limit""")

# Rollup (trades ingested up to the watermark) plus the trades ingested since: exact without waiting.
# `hint` is a recently read watermark (it only grows, so the subquery stays the exact bound): a literal lets
# the planner see the tail is small and read it through trades_ingested_idx instead of a hot market's history.
WATERMARK = text(
    "select max(complete_through) as upto from rollup_watermarks where name = 'dashboard_rollups'"
)
# Exact top-N without aggregating a hot market's every position: a holder either has no tail trades (then its
# rollup row is its position, and it is among the rollup's top limit + |tail| by the holders index) or it is in
# the tail; only those candidates are merged.
TOP_HOLDERS = text("""
    with w as (select coalesce(max(complete_through), '-infinity') as upto from rollup_watermarks
               where name = 'dashboard_rollups'),
    tail as (
        select wallet, token_id, min(outcome) as outcome, sum(case when side = 'BUY' then size else -size end) as net,
               coalesce(sum(usdc_size) filter (where side = 'BUY'), 0) as bought,
               coalesce(sum(usdc_size) filter (where side = 'SELL'), 0) as sold, count(*) as n
        from trades where condition_id = :condition_id and ingested_at > (select upto from w)
              and ingested_at > coalesce(cast(:hint as timestamptz), '-infinity')
        group by wallet, token_id),
    top as (select wallet, token_id from wallet_positions where condition_id = :condition_id
            order by net_size desc limit :limit + (select count(*) from tail)),
    candidates as (select wallet, token_id from top union select wallet, token_id from tail)
    select c.wallet, coalesce(p.outcome, t.outcome) as outcome,
           coalesce(p.net_size, 0) + coalesce(t.net, 0) as net_size,
           coalesce(p.bought_usdc, 0) + coalesce(t.bought, 0) as bought_usdc,
           coalesce(p.sold_usdc, 0) + coalesce(t.sold, 0) as sold_usdc, coalesce(p.trades, 0) + coalesce(t.n, 0) as trades
    from candidates c
    left join wallet_positions p on p.wallet = c.wallet and p.token_id = c.token_id
    left join tail t on t.wallet = c.wallet and t.token_id = c.token_id
    where coalesce(p.net_size, 0) + coalesce(t.net, 0) > 0
    order by net_size desc limit :limit""")

MARKET_DAILY_VOLUME = text("""
    with w as (select coalesce(max(complete_through), '-infinity') as upto from rollup_watermarks
               where name = 'dashboard_rollups')
    select day, sum(trades) as trades, sum(volume_usdc) as volume_usdc from (
        select day, trades, volume_usdc from market_volume_daily where condition_id = :condition_id
        union all
        select (traded_at at time zone 'UTC')::date, 1, usdc_size from trades
        where condition_id = :condition_id and ingested_at > (select upto from w)
              and ingested_at > coalesce(cast(:hint as timestamptz), '-infinity')) d
    group by day order by day""")


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def search_markets(
    term: str = "",
    event: str = "",
    tag: str | None = None,
    status: str = "all",
    min_volume: float = 0,
    min_liquidity: float = 0,
    max_spread: float | None = None,
    limit: int = 300,
) -> pd.DataFrame:
    term, event = term.strip(), event.strip()
    return frame(
        SEARCH_MARKETS,
        pattern=like_pattern(term) if term else None,
        term=term,
        event_pattern=like_pattern(event) if event else None,
        tag=tag,
        status=status,
        min_volume=min_volume,
        min_liquidity=min_liquidity,
        max_spread=max_spread,
        limit=limit,
    )


@st.cache_data(ttl=PAGE_TTL * 10, show_spinner=False)
def tags() -> list[str]:
    return [t for t in frame(TAGS)["tag"].tolist() if t]


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def market(condition_id: str) -> dict | None:
    rows = frame(MARKET, condition_id=condition_id)
    return None if rows.empty else rows.iloc[0].to_dict()


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def market_tokens(condition_id: str) -> pd.DataFrame:
    return frame(MARKET_TOKENS, condition_id=condition_id)


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def price_history(token_id: str, since: datetime) -> pd.DataFrame:
    return frame(PRICE_HISTORY, token_id=token_id, since=since)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def latest_book(token_id: str) -> dict | None:
    rows = frame(LATEST_BOOK, token_id=token_id)
    return None if rows.empty else rows.iloc[0].to_dict()


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def market_trades(condition_id: str, limit: int = 100) -> pd.DataFrame:
    return frame(MARKET_TRADES, condition_id=condition_id, limit=limit)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def rollup_watermark() -> datetime | None:
    upto = frame(WATERMARK).iloc[0]["upto"]
    return None if pd.isna(upto) else upto.to_pydatetime()


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def top_holders(condition_id: str, limit: int = 20) -> pd.DataFrame:
    return frame(TOP_HOLDERS, condition_id=condition_id, limit=limit, hint=rollup_watermark())


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def market_daily_volume(condition_id: str) -> pd.DataFrame:
    return frame(MARKET_DAILY_VOLUME, condition_id=condition_id, hint=rollup_watermark())


# ---- wallets --------------------------------------------------------------------------------------------


def wallet_ranking(order: str):
    counts = _wallet_signal_keys()
    w = sa.table(
        "wallets",
        sa.column("wallet"),
        sa.column("first_activity_at"),
        sa.column("trade_count"),
        sa.column("volume_usdc"),
        sa.column("last_seen_at"),
    ).alias("w")
    cols = [w.c.wallet, w.c.first_activity_at, w.c.trade_count, w.c.volume_usdc, w.c.last_seen_at]
    if order == "signals":
        top = (
            sa.select(counts.c.wallet, sa.func.count().label("signals"))
            .group_by(counts.c.wallet)
            .order_by(sa.text("signals desc"))
            .limit(sa.bindparam("limit"))
            .subquery("top")
        )
        return (
            sa.select(*cols, top.c.signals)
            .select_from(top.join(w, w.c.wallet == top.c.wallet))
            .order_by(top.c.signals.desc(), w.c.volume_usdc.desc())
        )
    n = sa.select(sa.func.count()).select_from(counts).where(counts.c.wallet == w.c.wallet).scalar_subquery()
    key = w.c.volume_usdc.desc() if order == "volume" else w.c.first_activity_at.desc().nulls_last()
    return sa.select(*cols, n.label("signals")).order_by(key).limit(sa.bindparam("limit"))


WALLET = text("select * from wallets where wallet = :wallet")

WALLET_TRADES = text("""
    select t.traded_at, m.question as market, t.side, t.outcome, t.price, t.size, t.usdc_size, t.condition_id
    from trades t left join markets m on m.condition_id = t.condition_id
    where t.wallet = :wallet order by t.traded_at desc limit :limit""")

WALLET_POSITIONS = text("""
    with w as (select coalesce(max(complete_through), '-infinity') as upto from rollup_watermarks
               where name = 'dashboard_rollups'),
    parts as (
        select token_id, condition_id, outcome, net_size, bought_usdc, sold_usdc, trades, last_trade_at
        from wallet_positions where wallet = :wallet
        union all
        select token_id, condition_id, outcome, case when side = 'BUY' then size else -size end,
               case when side = 'BUY' then usdc_size else 0 end, case when side = 'SELL' then usdc_size else 0 end,
               1, traded_at
        from trades where wallet = :wallet and ingested_at > (select upto from w)
              and ingested_at > coalesce(cast(:hint as timestamptz), '-infinity')),
    top as (
        select token_id, condition_id, outcome, sum(net_size) as net_size, sum(bought_usdc) as bought_usdc,
               sum(sold_usdc) as sold_usdc, sum(trades) as trades, max(last_trade_at) as last_trade_at
        from parts group by token_id, condition_id, outcome order by bought_usdc desc limit :limit)
    select m.question as market, t.outcome, t.net_size, t.bought_usdc, t.sold_usdc, t.trades, t.last_trade_at,
           t.condition_id
    from top t left join markets m on m.condition_id = t.condition_id order by t.bought_usdc desc""")


def wallet_scorecard_select():
    keys = _wallet_signal_keys()
    sc = sa.table(
        "signal_scorecard",
        *(
            sa.column(c)
            for c in (
                "signal_table",
                "signal_key",
                "horizon",
                "condition_id",
                "price_at_signal",
                "price_at_horizon",
                "move_in_direction",
                "correct",
                "paper_profit",
                "scored_at",
            )
        ),
    )
    return (
        sa.select(sc)
        .select_from(
            sc.join(
                keys, sa.and_(keys.c.signal_table == sc.c.signal_table, keys.c.signal_key == sc.c.signal_key)
            )
        )
        .where(keys.c.wallet == sa.bindparam("wallet"))
        .order_by(sc.c.scored_at.desc())
    )


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def wallets_ranked(order: str = "volume", limit: int = 100) -> pd.DataFrame:
    if order not in ("volume", "novelty", "signals"):
        raise ValueError(f"unknown wallet order {order!r}")
    return frame(wallet_ranking(order), limit=limit)


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def wallet(address: str) -> dict | None:
    rows = frame(WALLET, wallet=address)
    return None if rows.empty else rows.iloc[0].to_dict()


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def wallet_trades(address: str, limit: int = 200) -> pd.DataFrame:
    return frame(WALLET_TRADES, wallet=address, limit=limit)


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def wallet_positions(address: str, limit: int = 500) -> pd.DataFrame:
    return frame(WALLET_POSITIONS, wallet=address, limit=limit, hint=rollup_watermark())


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def wallet_scorecard(address: str) -> pd.DataFrame:
    return frame(wallet_scorecard_select(), wallet=address)


# ---- arbitrage ------------------------------------------------------------------------------------------

ARBITRAGE_WINDOWS = text("""
    select a.signal_key, a.kind, coalesce(m.question, e.title) as market, a.opened_at, a.closed_at,
           a.duration_s, a.peak_edge, a.fillable_size, a.profit_after_fees, a.capturable_usdc,
           a.suppressed_reason, a.condition_id, a.event_id
    from arbitrage_windows a
    left join markets m on m.condition_id = a.condition_id
    left join events e on e.event_id = a.event_id
    where a.opened_at >= :since and (:state = 'all' or (:state = 'open') = (a.closed_at is null))
    order by a.opened_at desc limit :limit""")


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def arbitrage_windows(since: datetime, state: str = "all", limit: int = 5000) -> pd.DataFrame:
    return frame(ARBITRAGE_WINDOWS, since=since, state=state, limit=limit)


# ---- alerts and thresholds (the only writes; editor engine) --------------------------------------------

ALERT_RULES = text("""
    select rule_id, name, signal_type, filters, destination_kind, webhook_url, enabled, daily_budget,
           created_at, updated_at from alert_rules order by rule_id""")

INSERT_RULE = text("""
    insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url, enabled, daily_budget)
    values (:name, :signal_type, cast(:filters as jsonb), :destination_kind, :webhook_url, :enabled, :daily_budget)
    returning rule_id""")

UPDATE_RULE = text("""
    update alert_rules set name = :name, signal_type = :signal_type, filters = cast(:filters as jsonb),
           destination_kind = :destination_kind, webhook_url = coalesce(:webhook_url, webhook_url),
           enabled = :enabled, daily_budget = :daily_budget, updated_at = now()
    where rule_id = :rule_id""")


DELIVERIES = text("""
    select d.delivery_id, r.name as rule, d.signal_table, d.signal_key, d.status, d.attempts, d.last_error,
           d.created_at, d.first_attempt_at, d.delivered_at
    from alert_deliveries d join alert_rules r on r.rule_id = d.rule_id
    where (:status = 'all' or d.status = :status) order by d.created_at desc limit :limit""")

OVERRIDES = text(
    "select signal_type, name, value, updated_at, updated_by from threshold_overrides"
    " order by signal_type, name"
)

UPSERT_OVERRIDE = text("""
    insert into threshold_overrides (signal_type, name, value, updated_at, updated_by)
    values (:signal_type, :name, cast(:value as jsonb), now(), :updated_by)
    on conflict (signal_type, name) do update set value = excluded.value, updated_at = now(),
        updated_by = excluded.updated_by""")

DELETE_OVERRIDE = text("delete from threshold_overrides where signal_type = :signal_type and name = :name")


def alert_rules() -> pd.DataFrame:
    """Read through the editor: the reader role may not see webhook URLs. Callers mask them."""
    return frame(ALERT_RULES, db.editor())


NUMERIC_COLUMNS = text("""
    select column_name from information_schema.columns
    where table_schema = current_schema() and table_name = :table
      and data_type in ('numeric', 'double precision', 'real', 'integer', 'bigint', 'smallint')""")


@st.cache_data(ttl=PAGE_TTL, show_spinner=False)
def numeric_columns(table: str) -> list[str]:
    """The columns a rule's min_/max_ filters may name on this signal table."""
    return frame(NUMERIC_COLUMNS, table=table)["column_name"].tolist()


def save_rule(params: dict) -> int:
    """Insert (no rule_id) or update a rule; a None webhook_url on update keeps the stored one."""
    with db.editor().begin() as conn:
        if params.get("rule_id") is None:
            return int(conn.execute(INSERT_RULE, params).scalar_one())
        conn.execute(UPDATE_RULE, params)
        return int(params["rule_id"])


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def deliveries(status: str = "all", limit: int = 200) -> pd.DataFrame:
    return frame(DELIVERIES, status=status, limit=limit)


def threshold_overrides() -> pd.DataFrame:
    return frame(OVERRIDES)


# Launchpad runs with `what_if: true` write here, beside the live tables (pm_assets/signals/launchpad.py).
WHAT_IF_RUNS = text("""
    select what_if_id, signal_type, min(evaluated_at) as evaluated_at, count(*) as rows,
           count(*) filter (where suppressed_reason is null) as alerts, min(thresholds::text) as thresholds
      from signal_what_if where evaluated_at >= now() - interval '30 days'
     group by what_if_id, signal_type order by min(evaluated_at) desc limit 50""")


def what_if_runs() -> pd.DataFrame:
    return frame(WHAT_IF_RUNS)


def save_override(signal_type: str, name: str, value_json: str, updated_by: str) -> None:
    with db.editor().begin() as conn:
        conn.execute(
            UPSERT_OVERRIDE,
            {"signal_type": signal_type, "name": name, "value": value_json, "updated_by": updated_by},
        )


def delete_override(signal_type: str, name: str) -> None:
    with db.editor().begin() as conn:
        conn.execute(DELETE_OVERRIDE, {"signal_type": signal_type, "name": name})


# ---- pipeline health ------------------------------------------------------------------------------------

STREAM_HEALTH = text("""
    select connection_id, event, started_at, ended_at, messages, lag_ms_p50, lag_ms_p99, detail
    from stream_health where started_at >= :since order by started_at desc limit 500""")

HEARTBEATS = text("""
    select part, last_beat_at, now() - last_beat_at as age, started_at, run_id, detail
    from heartbeats order by part""")

RATE_LIMITS = text("""
    select source, endpoint, count(*) as responses_429, max(fetched_at) as last_at, min(error) as example
    from raw_payloads where fetched_at >= :since and status_code = 429
    group by source, endpoint order by responses_429 desc""")

LOSS_EVENTS = text("""
    select interval_start, interval_end, reason, detected_at, repaired_at from trade_loss_events
    order by detected_at desc limit 100""")


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def stream_health(since: datetime) -> pd.DataFrame:
    return frame(STREAM_HEALTH, since=since)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def heartbeats() -> pd.DataFrame:
    return frame(HEARTBEATS)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def rate_limits(since: datetime) -> pd.DataFrame:
    return frame(RATE_LIMITS, since=since)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def trade_loss_events() -> pd.DataFrame:
    return frame(LOSS_EVENTS)
