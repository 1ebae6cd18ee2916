import json
from datetime import UTC, datetime

from pm_assets.books.models import ClobBook
from pm_assets.books.snapshots import best_ask, best_bid, snapshot_row
from tests.conftest import FIXTURES_DIR

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _book(bids, asks):
    return ClobBook.model_validate(
        {
            "market": "0x" + "ab" * 32,
            "asset_id": "1",
            "timestamp": "1774166201606",
            "hash": "h",
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
        }
    )


def test_recorded_book_best_ask_is_the_minimum_not_the_first_level():
    book = ClobBook.model_validate(json.loads((FIXTURES_DIR / "clob_book_rest_2026-03-22.json").read_text()))
    assert book.asks[0].price == 0.999  # upstream order: descending, best last
    assert best_ask(book) == min(level.price for level in book.asks)
    assert best_bid(book) is None
    row = snapshot_row(book, NOW)
    assert row[7] == best_ask(book) and row[6] is None and row[8] is None and row[9] is None
    asks = json.loads(row[13])
    assert asks[0][0] == best_ask(book) and [a[0] for a in asks] == sorted(a[0] for a in asks)


def test_mid_spread_and_depth_bands():
    # Upstream order: bids ascending, asks descending.
    book = _book(
        [("0.40", "100"), ("0.45", "10"), ("0.49", "20")], [("0.60", "50"), ("0.55", "5"), ("0.51", "30")]
    )
    row = snapshot_row(book, NOW)
    assert row[6:10] == (0.49, 0.51, 0.02, 0.5)
    bid_depth, ask_depth = json.loads(row[10]), json.loads(row[11])
    assert bid_depth["1c"] == round(0.49 * 20, 6)
    assert bid_depth["5c"] == round(0.49 * 20 + 0.45 * 10, 6)
    assert bid_depth["10c"] == round(0.49 * 20 + 0.45 * 10 + 0.40 * 100, 6)
    assert ask_depth["1c"] == round(0.51 * 30, 6)
    assert ask_depth["10c"] == round(0.51 * 30 + 0.55 * 5 + 0.60 * 50, 6)
    assert json.loads(row[12])[0] == [0.49, 20.0]


def test_empty_book_is_stored_as_empty_not_as_zero_prices():
    row = snapshot_row(_book([], []), NOW)
    assert row[6:10] == (None, None, None, None)
    assert json.loads(row[10]) == {"1c": 0.0, "5c": 0.0, "10c": 0.0}
