"""Markets planted around their end date, for the nearing-resolution query, page and browser test."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb


def _cid(label: str) -> str:
    return "0x" + hashlib.sha256(f"resolution-{label}".encode()).hexdigest()


@dataclass(frozen=True)
class Planted:
    label: str
    question: str
    ends_in_h: float
    closed: bool = False
    status: str | None = None  # market_resolutions.status
    price_then: float = 0.5
    price_now: float = 0.5

    @property
    def condition_id(self) -> str:
        return _cid(self.label)


PLANTED = (
    Planted("soon", "Will the ceasefire be announced by Friday?", 2.0, price_then=0.61, price_now=0.83),
    Planted("tomorrow", "Will the Fed hold rates on Wednesday?", 30.0, price_then=0.9, price_now=0.88),
    Planted("far", "Will the album chart at number one in June?", 240.0),
    Planted("disputed", "Did the team win the semi-final?", -3.0, closed=True, status="disputed"),
    Planted("resolved", "Was the bill signed on Monday?", -5.0, closed=True, status="resolved"),
    Planted("proposed", "Did Bitcoin close above 120k on Tuesday?", -1.0, closed=True, status="proposed"),
)
# In a 3-day window with markets in flight: by end date, ended ones (being resolved) first.
EXPECTED_ORDER = ("disputed", "proposed", "soon", "tomorrow")


def plant(conn: psycopg.Connection, now: datetime) -> None:
    conn.execute(
        "insert into events (event_id, slug, title, tags) values ('res-1', 'res-week', 'Resolution week', %s) "
        "on conflict (event_id) do nothing",
        (Jsonb([{"id": "2", "label": "Politics", "slug": "politics"}]),),
    )
    for p in PLANTED:
        cid = p.condition_id
        conn.execute(
            "insert into markets (condition_id, event_id, question, slug, active, closed, end_date, volume_24h, "
            "liquidity, last_trade_price, resolution_status) values (%s, 'res-1', %s, %s, true, %s, %s, %s, %s, %s, %s)",
            (
                cid,
                p.question,
                f"res-{p.label}",
                p.closed,
                now + timedelta(hours=p.ends_in_h),
                12_500.0,
                40_000.0,
                p.price_now,
                p.status,
            ),
        )
        yes, no = str(int(cid[2:18], 16)), str(int(cid[18:34], 16))
        conn.execute(
            "insert into tokens (token_id, condition_id, outcome, outcome_index, version) "
            "values (%s, %s, 'Yes', 0, 'v1'), (%s, %s, 'No', 1, 'v1')",
            (yes, cid, no, cid),
        )
        conn.execute(
            "insert into price_points (token_id, ts, price) values (%s, %s, %s), (%s, %s, %s)",
            (yes, now - timedelta(hours=25), p.price_then, yes, now - timedelta(minutes=5), p.price_now),
        )
        if p.status is not None:
            conn.execute(
                "insert into market_resolutions (condition_id, status, was_disputed, source) "
                "values (%s, %s, %s, 'test')",
                (cid, p.status, p.status == "disputed"),
            )


def plant_signal(conn: psycopg.Connection, label: str, now: datetime, *, hours_ago: float = 1.0) -> str:
    """A fresh-wallet signal on a planted market (the page counts the last 24 h)."""
    cid = _cid(label)
    key = hashlib.sha1(f"res-signal-{label}-{hours_ago}".encode()).hexdigest()[:20]
    at = now - timedelta(hours=hours_ago)
    conn.execute(
        "insert into fresh_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, "
        "price, usdc_size, wallet_age_hours, prior_trade_count, risk_score, evidence, detected_at) "
        "values (%s, %s, %s, %s, %s, '1', 'BUY', 0.2, 25000, 2, 0, 0.7, %s, %s)",
        (key, key, at, "0x" + "ab" * 20, cid, Jsonb({"summary": "planted"}), at),
    )
    return key
