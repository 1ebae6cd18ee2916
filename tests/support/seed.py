"""A small, coherent warehouse world for the dashboard tests, the browser tests and the bench.

Inserted through plain SQL (not through the ingestion assets) so the dashboards can be tested on their own:
three events, six markets (v1 and v2, one negRisk event, one resolved market), twelve wallets, a few
hundred trades over three days, book snapshots, price history, signals of every kind with evidence,
rankings, alert rules and deliveries, stream health and heartbeats. Deterministic for a given `now`.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg


def condition_id(label: str) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


def token_id(label: str) -> str:
    return str(int(hashlib.sha256(label.encode()).hexdigest(), 16))


def wallet_address(n: int) -> str:
    return "0x" + hashlib.sha1(f"wallet-{n}".encode()).hexdigest()


@dataclass
class SeedWorld:
    now: datetime
    markets: dict[str, str] = field(default_factory=dict)  # slug -> condition_id
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # condition_id -> (yes, no)
    wallets: list[str] = field(default_factory=list)
    fresh_wallet: str = ""
    resolved_market: str = ""
    busy_market: str = ""


EVENTS = [
    # event_id, slug, title, category, neg_risk, tags
    (
        "9001",
        "us-senate-2026-control",
        "Which party controls the Senate after 2026?",
        "Politics",
        True,
        [{"label": "Politics", "slug": "politics"}, {"label": "Elections", "slug": "elections"}],
    ),
    (
        "9002",
        "champions-final-2026",
        "Champions final 2026: who wins?",
        "Sports",
        False,
        [{"label": "Sports", "slug": "sports"}],
    ),
    (
        "9003",
        "btc-above-150k-december",
        "Bitcoin above $150k in December?",
        "Crypto",
        False,
        [{"label": "Crypto", "slug": "crypto"}],
    ),
]

MARKETS = [
    # slug, event_id, version, question, active, closed, volume, volume_24h, liquidity, best_bid, best_ask
    (
        "senate-democrats",
        "9001",
        "v2",
        "Will the Democrats control the Senate?",
        True,
        False,
        2_400_000,
        180_000,
        310_000,
        0.41,
        0.43,
    ),
    (
        "senate-republicans",
        "9001",
        "v2",
        "Will the Republicans control the Senate?",
        True,
        False,
        2_900_000,
        210_000,
        350_000,
        0.55,
        0.57,
    ),
    (
        "senate-other",
        "9001",
        "v2",
        "Will another party control the Senate?",
        True,
        False,
        90_000,
        4_000,
        20_000,
        0.01,
        0.02,
    ),
    (
        "champions-final-home",
        "9002",
        "v2",
        "Will the home side win the Champions final?",
        True,
        False,
        640_000,
        75_000,
        120_000,
        0.62,
        0.64,
    ),
    (
        "btc-150k-dec",
        "9003",
        "v1",
        "Will Bitcoin close above $150k on December 31?",
        True,
        False,
        1_100_000,
        95_000,
        160_000,
        0.12,
        0.13,
    ),
    (
        "btc-150k-nov",
        "9003",
        "v1",
        "Did Bitcoin close above $150k on November 30?",
        False,
        True,
        800_000,
        0,
        0,
        None,
        None,
    ),
]


def _fill_key(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def seed_world(url: str, *, now: datetime | None = None, trades_per_market: int = 60) -> SeedWorld:
    """Insert the world into the migrated warehouse at `url`; returns the identifiers tests need."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    rnd = random.Random(7)
    world = SeedWorld(now=now)
    with psycopg.connect(url) as conn:
        for event_id, slug, title, category, neg_risk, tags in EVENTS:
            conn.execute(
                "insert into events (event_id, slug, title, category, neg_risk, active, closed, tags)"
                " values (%s, %s, %s, %s, %s, true, false, %s)",
                (event_id, slug, title, category, neg_risk, json.dumps(tags)),
            )
        for slug, event_id, version, question, active, closed, vol, vol24, liq, bid, ask in MARKETS:
            cid = condition_id(slug)
            yes, no = token_id(slug + ":yes"), token_id(slug + ":no")
            world.markets[slug], world.tokens[cid] = cid, (yes, no)
            tags = next(e[5] for e in EVENTS if e[0] == event_id)
            resolved = closed
            conn.execute(
                """insert into markets (condition_id, market_id, event_id, version, slug, question, outcomes,
                       neg_risk, active, closed, accepting_orders, enable_order_book, tick_size, volume,
                       volume_24h, liquidity, best_bid, best_ask, spread, last_trade_price, end_date,
                       resolution_status, winning_token_id, resolved_at, tags)
                   values (%s, %s, %s, %s, %s, %s, '["Yes", "No"]', %s, %s, %s, %s, true, 0.01, %s, %s, %s,
                       %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    cid,
                    str(500000 + len(world.markets)),
                    event_id,
                    version,
                    slug,
                    question,
                    event_id == "9001",
                    active,
                    closed,
                    active,
                    vol,
                    vol24,
                    liq,
                    bid,
                    ask,
                    None if bid is None else round(ask - bid, 4),
                    bid,
                    now + timedelta(days=30),
                    "resolved" if resolved else None,
                    no if resolved else None,
                    now - timedelta(hours=20) if resolved else None,
                    json.dumps(tags),
                ),
            )
            for index, (tok, outcome) in enumerate([(yes, "Yes"), (no, "No")]):
                conn.execute(
                    "insert into tokens (token_id, condition_id, outcome, outcome_index, version, has_book, winner)"
                    " values (%s, %s, %s, %s, %s, %s, %s)",
                    (tok, cid, outcome, index, version, not closed, (tok == no) if resolved else None),
                )
            if resolved:
                world.resolved_market = cid
                conn.execute(
                    "insert into market_resolutions (condition_id, status, winning_token_id, winning_outcome,"
                    " resolved_at, source) values (%s, 'resolved', %s, 'No', %s, 'data_api')",
                    (cid, no, now - timedelta(hours=20)),
                )
        world.busy_market = world.markets["senate-republicans"]

        world.wallets = [wallet_address(n) for n in range(12)]
        world.fresh_wallet = world.wallets[11]
        for n, wallet in enumerate(world.wallets):
            first = now - timedelta(hours=3) if n == 11 else now - timedelta(days=40 + 30 * n)
            conn.execute(
                "insert into wallets (wallet, first_activity_at, first_activity_checked_at, last_seen_at)"
                " values (%s, %s, %s, %s)",
                (wallet, first, now, now),
            )

        trade_rows = []
        for slug, cid in world.markets.items():
            yes, no = world.tokens[cid]
            count = trades_per_market * (3 if cid == world.busy_market else 1)
            for i in range(count):
                at = now - timedelta(minutes=rnd.randint(5, 3 * 24 * 60))
                if slug == "btc-150k-nov":
                    at = now - timedelta(days=2, minutes=rnd.randint(0, 24 * 60))
                wallet = world.wallets[rnd.randint(0, 10)]
                tok, outcome, index = (yes, "Yes", 0) if rnd.random() < 0.6 else (no, "No", 1)
                side = "BUY" if rnd.random() < 0.7 else "SELL"
                price = round(rnd.uniform(0.05, 0.95), 2)
                size = round(rnd.uniform(10, 4000), 2)
                tx = "0x" + hashlib.sha256(f"{slug}-{i}".encode()).hexdigest()
                trade_rows.append(
                    (
                        at,
                        _fill_key(tx, tok, wallet, side, price, size, 0),
                        tx,
                        tok,
                        cid,
                        wallet,
                        side,
                        price,
                        size,
                        outcome,
                        index,
                    )
                )
        btc = world.markets["btc-150k-dec"]
        fresh_trade_at = now - timedelta(minutes=20)
        fresh_tx = "0x" + hashlib.sha256(b"fresh-wallet-buy").hexdigest()
        fresh_fill = _fill_key(fresh_tx, world.tokens[btc][0], world.fresh_wallet, "BUY", 0.12, 401666.67, 0)
        trade_rows.append(
            (
                fresh_trade_at,
                fresh_fill,
                fresh_tx,
                world.tokens[btc][0],
                btc,
                world.fresh_wallet,
                "BUY",
                0.12,
                401666.67,
                "Yes",
                0,
            )
        )
        with conn.cursor() as cur:
            cur.executemany(
                """insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side,
                       price, size, outcome, outcome_index, source)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'data_api')""",
                trade_rows,
            )
        conn.execute(
            """update wallets w set trade_count = t.n, volume_usdc = t.v
               from (select wallet, count(*) n, sum(usdc_size) v from trades group by wallet) t
               where t.wallet = w.wallet"""
        )

        for cid, (yes, no) in world.tokens.items():
            if cid == world.resolved_market:
                continue
            mid = 0.2 + rnd.random() * 0.6
            bids = [
                {"price": f"{mid - 0.01 * k:.2f}", "size": f"{rnd.randint(50, 3000)}"} for k in range(1, 9)
            ]
            asks = [
                {"price": f"{mid + 0.01 * k:.2f}", "size": f"{rnd.randint(50, 3000)}"} for k in range(1, 9)
            ]
            for tok in (yes, no):
                conn.execute(
                    """insert into order_book_snapshots (captured_at, token_id, condition_id, best_bid, best_ask,
                           spread, mid, bids, asks) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    (
                        now - timedelta(minutes=2),
                        tok,
                        cid,
                        float(bids[0]["price"]),
                        float(asks[0]["price"]),
                        0.02,
                        mid,
                        json.dumps(bids),
                        json.dumps(asks),
                    ),
                )
            price = mid
            points = []
            for step in range(3 * 24 * 6):
                price = min(0.99, max(0.01, price + rnd.uniform(-0.015, 0.015)))
                points.append((yes, now - timedelta(minutes=10 * (3 * 24 * 6 - step)), round(price, 4)))
            with conn.cursor() as cur:
                cur.executemany("insert into price_points (token_id, ts, price) values (%s, %s, %s)", points)

        _seed_signals(conn, world, fresh_fill, fresh_trade_at)
        _seed_operations(conn, world)
    return world


def _seed_signals(conn: psycopg.Connection, world: SeedWorld, fresh_fill: str, fresh_at: datetime) -> None:
    now, btc = world.now, world.markets["btc-150k-dec"]
    thresholds = {"fresh_wallet_min_usdc": 10000, "fresh_wallet_max_age_days": 7}
    fresh = [
        # key, fill, at, wallet, market, token index, price, usdc, age h, prior, suppressed, summary
        ("fw-1", fresh_fill, fresh_at, world.fresh_wallet, btc, 0, 0.12, 48_200.0, 3.0, 0, None, None),
        (
            "fw-2",
            "f" * 40,
            now - timedelta(hours=30),
            world.wallets[10],
            world.resolved_market,
            0,
            0.35,
            15_500.0,
            20.0,
            2,
            None,
            "new wallet bet $15,500 on YES a day before resolution",
        ),
        (
            "fw-3",
            "e" * 40,
            now - timedelta(hours=5),
            world.wallets[9],
            world.markets["senate-other"],
            0,
            0.02,
            11_000.0,
            30.0,
            1,
            "market liquidity below $25,000",
            None,
        ),
    ]
    for key, fill, at, wallet, cid, index, price, usdc, age, prior, suppressed, summary in fresh:
        evidence = {"thresholds": thresholds, "wallet_age_hours": age}
        if summary:
            evidence["summary"] = summary
        conn.execute(
            """insert into fresh_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id,
                   side, price, usdc_size, wallet_first_activity_at, wallet_age_hours, prior_trade_count,
                   market_liquidity, risk_score, suppressed_reason, evidence)
               values (%s, %s, %s, %s, %s, %s, 'BUY', %s, %s, %s, %s, %s, 160000, %s, %s, %s)""",
            (
                key,
                fill,
                at,
                wallet,
                cid,
                world.tokens[cid][index],
                price,
                usdc,
                at - timedelta(hours=age),
                age,
                prior,
                0.9 - 0.2 * prior,
                suppressed,
                json.dumps(evidence),
            ),
        )
    senate = world.markets["senate-democrats"]
    windows = [
        ("arb-live", "negrisk_ask", None, "9001", now - timedelta(minutes=4), None, 0.031, 1200.0, None),
        (
            "arb-1",
            "binary_ask",
            btc,
            "9003",
            now - timedelta(hours=6),
            now - timedelta(hours=6, minutes=-3),
            0.018,
            800.0,
            None,
        ),
        (
            "arb-2",
            "binary_bid",
            senate,
            "9001",
            now - timedelta(hours=26),
            now - timedelta(hours=26, seconds=-40),
            0.006,
            150.0,
            "edge below fees",
        ),
    ]
    for key, kind, cid, event_id, opened, closed, edge, fillable, suppressed in windows:
        duration = (closed - opened).total_seconds() if closed else None
        conn.execute(
            """insert into arbitrage_windows (signal_key, kind, condition_id, event_id, opened_at, closed_at,
                   duration_s, peak_edge, peak_at, fillable_size, profit_at_peak, profit_after_fees,
                   capturable_usdc, suppressed_reason, evidence)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                key,
                kind,
                cid,
                event_id,
                opened,
                closed,
                duration,
                edge,
                opened + timedelta(seconds=20),
                fillable,
                edge * fillable,
                edge * fillable * 0.8,
                edge * fillable * 0.8,
                suppressed,
                json.dumps({"sum_of_asks": round(1 - edge, 4), "thresholds": {"arbitrage_min_edge": 0.005}}),
            ),
        )
    spikes = [
        (
            "sp-1",
            "price_move",
            senate,
            now - timedelta(hours=2, minutes=10),
            now - timedelta(hours=2),
            0.30,
            0.52,
            22.0,
            None,
            None,
        ),
        (
            "sp-2",
            "volume_z",
            btc,
            now - timedelta(hours=1),
            now - timedelta(minutes=30),
            None,
            None,
            None,
            60_000.0,
            5.1,
        ),
    ]
    for key, kind, cid, start, end, before, after, move, volume, z in spikes:
        conn.execute(
            """insert into price_spikes (signal_key, kind, condition_id, token_id, window_start, window_end,
                   price_before, price_after, move_points, volume_usdc, volume_z, evidence)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                key,
                kind,
                cid,
                world.tokens[cid][0],
                start,
                end,
                before,
                after,
                move,
                volume,
                z,
                json.dumps({"thresholds": {"spike_min_points": 10, "spike_window_minutes": 15}}),
            ),
        )
    conn.execute(
        """insert into size_anomalies (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, price,
               usdc_size, fill_count, volume_share, depth_share, anomaly_score, evidence)
           values ('sa-1', %s, %s, %s, %s, %s, 'BUY', 0.12, 48200, 1, 0.51, 0.8, 7.5, '{}')""",
        (fresh_fill, fresh_at, world.fresh_wallet, btc, world.tokens[btc][0]),
    )
    # A watched wallet's trade (watchlists themselves are left to the tests that make them).
    conn.execute(
        """insert into watched_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side,
               price, usdc_size, fill_count, watchlists, min_position_usdc, evidence)
           values ('ww-1', %s, %s, %s, %s, %s, 'BUY', 0.12, 48200, 1, '{Whales}', 0, %s)""",
        (
            _fill_key("ww-1"),
            fresh_at - timedelta(minutes=5),
            world.wallets[4],
            btc,
            world.tokens[btc][0],
            json.dumps({"summary": "watched wallet (list Whales) bought Yes at 0.12: $48,200"}),
        ),
    )
    conn.execute(
        """insert into wallet_clusters (signal_key, condition_id, token_id, started_at, ended_at, wallet_count,
               wallets, total_usdc, evidence)
           values ('wc-1', %s, %s, %s, %s, 3, %s, 36000, '{}')""",
        (
            senate,
            world.tokens[senate][0],
            now - timedelta(hours=3),
            now - timedelta(hours=2, minutes=40),
            world.wallets[3:6],
        ),
    )
    conn.execute(
        # The scorecard's fixed stake (100 USDC) bought YES at 0.35 and lost it when the market resolved NO.
        """insert into signal_scorecard (signal_table, signal_key, horizon, condition_id, direction_token_id,
               price_at_signal, price_at_horizon, move_in_direction, correct, paper_profit, evidence)
           values ('fresh_wallet_trades', 'fw-2', 'settlement', %s, %s, 0.35, 0.0, -0.35, false, -100, %s)""",
        (
            world.resolved_market,
            world.tokens[world.resolved_market][0],
            json.dumps(
                {"stake": 100, "suppressed": False, "signal_at": (now - timedelta(hours=30)).isoformat()}
            ),
        ),
    )
    for offset, run in ((timedelta(hours=1), 0), (timedelta(minutes=10), 1)):
        ranked = sorted(world.markets.values(), key=lambda c: (c == world.resolved_market, c))
        if run:
            ranked = [world.busy_market] + [c for c in ranked if c != world.busy_market]
        for rank, cid in enumerate(ranked, start=1):
            conn.execute(
                "insert into market_rankings (ranked_at, condition_id, rank, score, components)"
                " values (%s, %s, %s, %s, %s)",
                (
                    now - offset,
                    cid,
                    rank,
                    round(100 - rank * 7.5, 2),
                    json.dumps(
                        {"volume": 0.4, "liquidity": 0.3, "spread": 0.1, "movement": 0.1, "signals": 0.1}
                    ),
                ),
            )


def _seed_operations(conn: psycopg.Connection, world: SeedWorld) -> None:
    now = world.now
    rules = [
        (
            "Fresh wallets over $10k",
            "fresh_wallet_trades",
            "slack",
            "https://hooks.slack.com/services/T0/B0/secret1",
        ),
        ("All arbitrage", "arbitrage_windows", "json", "https://alerts.example.com/hook?token=secret2"),
    ]
    for name, signal_type, kind, url in rules:
        conn.execute(
            "insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url, daily_budget)"
            " values (%s, %s, '{}', %s, %s, 50)",
            (name, signal_type, kind, url),
        )
    conn.execute(
        """insert into alert_deliveries (rule_id, signal_table, signal_key, status, attempts, last_error,
               signal_at, first_attempt_at, delivered_at, created_at)
           values (1, 'fresh_wallet_trades', 'fw-1', 'delivered', 1, null, %(a)s, %(a)s, %(a)s, %(a)s),
                  (1, 'fresh_wallet_trades', 'fw-2', 'failed', 3, 'HTTP 500 from target', %(b)s, %(b)s, null, %(b)s),
                  (2, 'arbitrage_windows', 'arb-live', 'pending', 0, null, %(c)s, null, null, %(c)s)""",
        {"a": now - timedelta(minutes=15), "b": now - timedelta(hours=29), "c": now - timedelta(minutes=3)},
    )
    conn.execute(
        "insert into threshold_overrides (signal_type, name, value, updated_by)"
        " values ('fresh_wallet_trades', 'fresh_wallet_min_usdc', '10000', 'seed')"
    )
    conn.execute(
        """insert into stream_health (connection_id, event, started_at, ended_at, messages, lag_ms_p50, lag_ms_p99,
               detail)
           values ('ws-1', 'connect', %(t0)s, null, null, null, null, '{}'),
                  ('ws-1', 'stats', %(t1)s, %(t2)s, 5400, 42, 310, '{}'),
                  ('ws-1', 'gap', %(g0)s, %(g1)s, null, null, null, '{"reason": "server closed the socket"}')""",
        {
            "t0": now - timedelta(hours=2),
            "t1": now - timedelta(minutes=6),
            "t2": now - timedelta(minutes=1),
            "g0": now - timedelta(minutes=50),
            "g1": now - timedelta(minutes=49, seconds=30),
        },
    )
    conn.execute(
        """insert into heartbeats (part, last_beat_at, started_at, run_id, detail)
           values ('stream_consumer', %(a)s, %(s)s, 'run-1', '{"tokens": 12}'),
                  ('alert_delivery', %(b)s, %(s)s, 'run-2', '{}')""",
        {"a": now - timedelta(seconds=20), "b": now - timedelta(minutes=12), "s": now - timedelta(hours=2)},
    )
    conn.execute(
        """insert into raw_payloads (fetched_at, source, endpoint, status_code, error)
           values (%(a)s, 'data_api', '/v2/trades', 429, 'rate limited; Retry-After 2'),
                  (%(b)s, 'clob', '/books', 200, null)""",
        {"a": now - timedelta(minutes=30), "b": now - timedelta(minutes=29)},
    )
