"""Polymarket's own py-clob-client reads pm_sim unchanged; same seed => byte-identical answers."""

from __future__ import annotations

from py_clob_client.client import ClobClient
from py_clob_client.clob_types import BookParams

from pm_sim.testing import running_sim
from tests import loopback
from tests.support.sim import pick


def test_py_clob_client_reads(sim, markets):
    c = ClobClient(sim.clob_url)
    m = pick(markets, open=True, has_book=True, version="v2")
    tok = m["token_ids"][0]
    assert c.get_ok() == "OK"
    assert isinstance(c.get_server_time(), int)
    book = c.get_order_book(tok)
    assert book.asset_id == tok and book.hash
    assert c.get_order_book_hash(book) == book.hash
    books = c.get_order_books([BookParams(token_id=t) for t in m["token_ids"]])
    assert len(books) == 2
    assert float(c.get_midpoint(tok)["mid"]) > 0
    assert set(c.get_midpoints([BookParams(token_id=tok)])) == {tok}
    assert float(c.get_price(tok, "BUY")["price"]) == float(book.bids[-1].price)
    assert c.get_prices([BookParams(token_id=tok, side="SELL")])[tok]["SELL"] == book.asks[-1].price
    assert "spread" in c.get_spread(tok)
    assert tok in c.get_spreads([BookParams(token_id=tok)])
    assert set(c.get_last_trade_price(tok)) == {"price", "side"}
    assert c.get_last_trades_prices([BookParams(token_id=tok)])[0]["token_id"] == tok
    page = c.get_markets()
    assert page["data"] and page["next_cursor"] == "LTE="
    assert c.get_simplified_markets()["data"][0]["tokens"]
    assert c.get_sampling_markets()["count"] >= 1
    assert c.get_sampling_simplified_markets()["data"]
    assert c.get_market(m["condition_id"])["condition_id"] == m["condition_id"]
    assert c.get_tick_size(tok) in ("0.01", "0.001", "0.0025")
    assert c.get_neg_risk(tok) is m["neg_risk"]
    assert isinstance(c.get_fee_rate_bps(tok), int)


REQUESTS = [
    ("clob", "/book?token_id={tok}"),
    ("clob", "/markets"),
    ("gamma", "/markets/keyset?limit=50"),
    ("gamma", "/events/keyset?limit=50&version=v2"),
    ("data", "/v2/trades?limit=500"),
    ("data", "/trades?limit=200"),
    ("clob", "/prices-history?market={tok}&interval=1d&fidelity=10"),
    ("data", "/v2/resolutions?condition={cid}"),
    ("admin", "/ground-truth?all=1"),
]


def _answers(seed: int) -> list[bytes]:
    with running_sim(seed=seed, markets=40) as s:
        m = next(x for x in s.world.markets if x.has_book and x.created_at <= s.sim.now() < x.close_time)
        s.advance(123)
        out = []
        for api, path in REQUESTS:
            base = getattr(s, f"{api}_url")
            r = loopback.get(
                base + path.format(tok=m.token_ids[0], cid=m.condition_id), timeout=120
            )  # shared CPU
            body = r.content
            if api == "admin":
                body = body.split(b'"records"')[1]
            out.append(body)
        return out


def test_same_seed_same_bytes():
    a, b = _answers(11), _answers(11)
    assert a == b
    assert _answers(12)[0] != a[0]
