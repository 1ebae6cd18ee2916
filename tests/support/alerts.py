"""Alert test helpers: rules and realistic signal rows written straight into the warehouse (the fixtures are in
tests/integration/alerts/conftest.py)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb

MARKET_A = "0x" + "a1" * 32
MARKET_B = "0x" + "b2" * 32


def add_rule(
    conn, name, url, *, signal_type="fresh_wallet", kind="json", filters=None, budget=None, enabled=True
) -> int:
    return conn.execute(
        "insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url, enabled, daily_budget) "
        "values (%s, %s, %s, %s, %s, %s, %s) returning rule_id",
        (name, signal_type, Jsonb(filters or {}), kind, url, enabled, budget),
    ).fetchone()[0]


def _key(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]


def add_fresh_wallet(
    conn, n, *, usdc=48_200.0, market=MARKET_A, suppressed=None, detected_at=None, age_h=3.0
) -> str:
    """A fresh-wallet trade signal and the trade it came from (so ingested_at can be traced)."""
    traded_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    fill_key = _key("fill", n)
    wallet = "0x" + f"{n:040x}"
    conn.execute(
        "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, "
        "size, source, ingested_at) values (%s, %s, %s, '123456', %s, %s, 'BUY', 0.12, %s, 'data_api', %s)",
        (
            traded_at,
            fill_key,
            "0x" + _key("tx", n),
            market,
            wallet,
            usdc / 0.12,
            traded_at + timedelta(seconds=4),
        ),
    )
    key = _key("fw", n)
    summary = f"wallet first active {age_h:g} h before this ${usdc:,.0f} buy of YES at 0.12"
    conn.execute(
        "insert into fresh_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, "
        "price, usdc_size, wallet_age_hours, prior_trade_count, risk_score, suppressed_reason, evidence, detected_at) "
        "values (%s, %s, %s, %s, %s, '123456', 'BUY', 0.12, %s, %s, 0, 0.8, %s, %s, coalesce(%s, now()))",
        (
            key,
            fill_key,
            traded_at,
            wallet,
            market,
            usdc,
            age_h,
            suppressed,
            Jsonb({"summary": summary, "thresholds": {"min_usdc": 10000, "max_age_days": 7}}),
            detected_at,
        ),
    )
    return key


def add_arbitrage(conn, n, *, edge=0.03, market=MARKET_B) -> str:
    key = _key("arb", n)
    opened = datetime.now(UTC) - timedelta(seconds=20)
    conn.execute(
        "insert into arbitrage_windows (signal_key, kind, condition_id, opened_at, peak_edge, fillable_size, "
        "capturable_usdc, evidence) values (%s, 'binary_ask', %s, %s, %s, 1500, %s, %s)",
        (
            key,
            market,
            opened,
            edge,
            1500 * edge,
            Jsonb({"summary": f"YES ask + NO ask = {1 - edge:.3f}: {edge * 100:.1f}% edge on 1,500 shares"}),
        ),
    )
    return key


def add_spike(conn, n, *, move=0.15, market=MARKET_A) -> str:
    key = _key("spike", n)
    end = datetime.now(UTC) - timedelta(seconds=10)
    conn.execute(
        "insert into price_spikes (signal_key, kind, condition_id, token_id, window_start, window_end, price_before, "
        "price_after, move_points, evidence) values (%s, 'price_move', %s, '123456', %s, %s, 0.40, %s, %s, %s)",
        (
            key,
            market,
            end - timedelta(minutes=10),
            end,
            0.40 + move,
            move,
            Jsonb({"summary": f"YES moved {move * 100:.0f} points in 10 min (0.40 -> {0.40 + move:.2f})"}),
        ),
    )
    return key


def deliveries(conn, rule_id=None) -> list[dict]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select * from alert_deliveries where %s::int is null or rule_id = %s order by delivery_id",
            (rule_id, rule_id),
        ).fetchall()
