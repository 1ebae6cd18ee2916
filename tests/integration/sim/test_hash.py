"""Every book's hash follows the documented SHA-1 rule."""

from __future__ import annotations

from pm_sim.book_hash import book_hash
from tests import loopback
from tests.support.shapes import load


def test_fixture_hashes_reproduce():
    rest = load("clob_book_rest_2026-03-22.json")
    assert book_hash(rest) == rest["hash"]
    v2 = load("clob_book_rest_v2_2026-10-05.json")
    assert book_hash(v2) == v2["hash"]
    ws = load("ws_market_book_snapshot_2026-08.json")
    assert book_hash(ws, min_order_size="5", neg_risk=False) == ws["hash"]


def test_rest_books_hash(sim, markets):
    toks = [t for m in markets if m["open"] and m["has_book"] for t in m["token_ids"]][:60]
    books = loopback.post(sim.clob_url + "/books", json=[{"token_id": t} for t in toks]).json()
    assert len(books) == len(toks)
    for b in books:
        assert book_hash(b) == b["hash"]
        bids = [float(x["price"]) for x in b["bids"]]
        asks = [float(x["price"]) for x in b["asks"]]
        assert bids == sorted(bids) and asks == sorted(asks, reverse=True)


def test_ws_books_hash(ws_frames, markets):
    neg = {t: m["neg_risk"] for m in markets for t in m["token_ids"]}
    books, _ = ws_frames
    assert books
    for b in books:
        assert book_hash(b, min_order_size="5", neg_risk=neg[b["asset_id"]]) == b["hash"]
