"""The 0008 rollups: the dashboards' holders, positions and daily volume equal a direct aggregate of trades,
before the first refresh, right after one, and with trades ingested since (the tail)."""

import hashlib
from datetime import timedelta

import psycopg

from dashboards import queries


def _direct_holders(conn, cid):
    return conn.execute(
        """select wallet, sum(case when side = 'BUY' then size else -size end) net from trades
           where condition_id = %s group by wallet, token_id
           having sum(case when side = 'BUY' then size else -size end) > 0 order by net desc, wallet""",
        (cid,),
    ).fetchall()


def _dashboard_holders(cid, limit=1000):
    queries.rollup_watermark.clear()
    queries.top_holders.clear()
    df = queries.top_holders(cid, limit=limit)
    return sorted(zip(df["wallet"], df["net_size"], strict=True), key=lambda r: (-r[1], r[0]))


def _direct_daily(conn, cid):
    return conn.execute(
        """select (traded_at at time zone 'UTC')::date, count(*), sum(usdc_size) from trades
           where condition_id = %s group by 1 order by 1""",
        (cid,),
    ).fetchall()


def _dashboard_daily(cid):
    queries.rollup_watermark.clear()
    queries.market_daily_volume.clear()
    df = queries.market_daily_volume(cid)
    return list(zip(df["day"], df["trades"], df["volume_usdc"], strict=True))


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x[0] == y[0] and all(
            abs(float(p) - float(q)) < 1e-6 for p, q in zip(x[1:], y[1:], strict=True)
        )


def test_rollups_stay_exact_through_refreshes(world):
    cid = world.busy_market
    with psycopg.connect(world.url, autocommit=True) as conn:
        _same(_dashboard_holders(cid), _direct_holders(conn, cid))  # never refreshed: all from trades
        refreshed = dict(conn.execute("select * from pm_refresh_dashboard_rollups()").fetchall())
        assert refreshed["wallet_positions"] > 0 and refreshed["market_volume_daily"] > 0
        _same(_dashboard_holders(cid), _direct_holders(conn, cid))
        _same(_dashboard_daily(cid), _direct_daily(conn, cid))

        yes = world.tokens[cid][0]
        for n, wallet in enumerate(world.wallets[:3]):
            tx = "0x" + hashlib.sha256(f"late-{n}".encode()).hexdigest()
            conn.execute(
                """insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side,
                       price, size, outcome, source) values (%s, %s, %s, %s, %s, %s, 'BUY', 0.5, 77777, 'Yes', 't')""",
                (world.now - timedelta(minutes=1), f"late-{n}", tx, yes, cid, wallet),
            )
        _same(_dashboard_holders(cid), _direct_holders(conn, cid))  # rollup + the tail ingested after it
        # A short top-N: the late buyers (in the tail only) must displace the rollup's leaders.
        _same(_dashboard_holders(cid, limit=3), _direct_holders(conn, cid)[:3])
        _same(_dashboard_holders(cid, limit=5), _direct_holders(conn, cid)[:5])
        _same(_dashboard_daily(cid), _direct_daily(conn, cid))
        again = dict(conn.execute("select * from pm_refresh_dashboard_rollups()").fetchall())
        assert again["wallet_positions"] >= 3
        _same(_dashboard_holders(cid), _direct_holders(conn, cid))
        _same(_dashboard_daily(cid), _direct_daily(conn, cid))
        stored = conn.execute("select count(*) from wallet_positions").fetchone()[0]
        pairs = conn.execute("select count(distinct (wallet, token_id)) from trades").fetchone()[0]
        assert stored == pairs


def test_reader_role_cannot_write_or_read_webhooks(world):
    import pytest
    import sqlalchemy as sa

    with pytest.raises(sa.exc.DBAPIError, match="read-only"):
        queries.frame(
            sa.text("insert into heartbeats (part, last_beat_at) values ('x', now()) returning part")
        )
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        queries.frame(sa.text("select webhook_url from alert_rules"))
