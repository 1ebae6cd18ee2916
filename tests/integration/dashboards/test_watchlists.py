"""The Watchlists page (AppTest over the seeded warehouse): a pasted list with bad lines, P&L, one-click add."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.apptest import frame_with, open_page, texts, widget


def _paste(at, name: str, text: str, size: float | None = None):
    widget(at, "text_input", "Watchlist name").input(name)
    if size is not None:
        widget(at, "number_input", "Alert on positions").set_value(size)
    widget(at, "text_area", "Wallets, one a line").input(text)
    next(b for b in at.button if b.label == "Save wallets").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _expected_pnl(url: str, wallet: str) -> tuple[float, float, int]:
    """Average-cost P&L recomputed in Python from the wallet's stored trades and the latest prices."""
    realised = unrealised = 0.0
    open_positions = 0
    with psycopg.connect(url) as conn:
        tokens = conn.execute("select distinct token_id from trades where wallet = %s", (wallet,)).fetchall()
        for (token,) in tokens:
            fills = conn.execute(
                "select side, price, size from trades where wallet = %s and token_id = %s", (wallet, token)
            ).fetchall()
            bought = sum(s for side, _, s in fills if side == "BUY")
            cost = sum(p * s for side, p, s in fills if side == "BUY")
            sold = sum(s for side, _, s in fills if side == "SELL")
            proceeds = sum(p * s for side, p, s in fills if side == "SELL")
            winner = conn.execute("select winner from tokens where token_id = %s", (token,)).fetchone()
            point = conn.execute(
                "select price from price_points where token_id = %s order by ts desc limit 1", (token,)
            ).fetchone()
            last = conn.execute(
                "select price from trades where token_id = %s order by traded_at desc limit 1", (token,)
            ).fetchone()
            if winner and winner[0] is not None:
                mark = 1.0 if winner[0] else 0.0
            else:
                mark = point[0] if point else last[0]
            open_positions += bought - sold > 1e-9
            if bought > 0:
                entry = cost / bought
                realised += proceeds - sold * entry
                unrealised += max(bought - sold, 0) * (mark - entry)
    return round(realised, 2), round(unrealised, 2), open_positions


def test_a_pasted_list_is_saved_with_every_bad_line_reported(world):
    bad = "0x12345"
    text = "\n".join(
        [
            f"{world.fresh_wallet.upper().replace('0X', '0x')},insider?,first seen in the seed",
            bad,
            world.wallets[10],
            world.fresh_wallet,
        ]
    )
    at = _paste(open_page("watchlists"), "Election whales", text, size=0.0)
    page = texts(at)
    assert "Created watchlist Election whales: 2 wallet(s) added." in page
    assert "1 line(s) not added" not in page and "2 line(s) not added" in page
    problems = frame_with(at, "reason")
    assert problems.to_dict("records") == [
        {
            "line": 2,
            "text": bad,
            "reason": "not an address: 0x must be followed by 40 hexadecimal characters, found 5",
        },
        {"line": 4, "text": world.fresh_wallet, "reason": "duplicate of line 1"},
    ]
    with psycopg.connect(world.url) as conn:
        stored = conn.execute(
            "select w.wallet, w.label, w.note, l.min_position_usdc from watchlist_wallets w"
            " join watchlists l using (watchlist_id) order by w.wallet"
        ).fetchall()
    assert sorted(stored) == sorted(
        [
            (world.fresh_wallet, "insider?", "first seen in the seed", 0.0),
            (world.wallets[10], None, None, 0.0),
        ]
    )

    # Saving again reports the wallets already on the list, and loses nothing.
    at = _paste(at, "Election whales", world.wallets[10])
    assert "Updated watchlist Election whales: 0 wallet(s) added, 1 already on it" in texts(at)
    assert frame_with(at, "reason").to_dict("records") == [
        {"line": 1, "text": world.wallets[10], "reason": "already on Election whales"}
    ]


def test_the_list_shows_activity_and_pnl_marked_from_latest_prices(world):
    at = _paste(open_page("watchlists"), "Two", "\n".join([world.fresh_wallet, world.wallets[10]]))
    members = frame_with(at, "unrealised_pnl").set_index("wallet")
    for wallet in (world.fresh_wallet, world.wallets[10]):
        realised, unrealised, open_positions = _expected_pnl(world.url, wallet)
        row = members.loc[wallet]
        assert row["open_positions"] == open_positions
        assert row["realised_pnl"] == pytest.approx(realised, abs=0.01)
        assert row["unrealised_pnl"] == pytest.approx(unrealised, abs=0.01)
    assert members.loc[world.fresh_wallet, "trades"] == 1
    assert frame_with(at, "usdc_size")["wallet"].isin([world.fresh_wallet, world.wallets[10]]).all()
    page = texts(at)
    with psycopg.connect(world.url) as conn:
        for table, label in (
            ("fresh_wallet_trades", "Fresh-wallet trades"),
            ("size_anomalies", "Size anomalies"),
        ):
            n = conn.execute(
                f"select count(*) from {table} where wallet = any(%s)",
                ([world.fresh_wallet, world.wallets[10]],),
            ).fetchone()[0]
            assert n > 0 and f"**{label}**: {n}" in page


def test_a_bad_name_or_an_empty_paste_saves_nothing(world):
    at = _paste(open_page("watchlists"), "   ", world.fresh_wallet)
    assert "a watchlist needs a name; nothing was saved." in texts(at)
    at = _paste(open_page("watchlists"), "Empty", "\n\n")
    assert "No wallets given; nothing was saved." in texts(at)
    with psycopg.connect(world.url) as conn:
        assert conn.execute("select count(*) from watchlists").fetchone()[0] == 0


def test_one_click_from_a_wallet_page(world):
    _paste(open_page("watchlists"), "Follow", world.wallets[10])
    at = open_page("wallets", wallet=world.fresh_wallet)
    next(b for b in at.button if b.label == "Add to watchlist").click().run()
    assert "Added to Follow." in texts(at) and "On watchlists: Follow" in texts(at)
    with psycopg.connect(world.url) as conn:
        assert (
            conn.execute(
                "select count(*) from watchlist_wallets where wallet = %s", (world.fresh_wallet,)
            ).fetchone()[0]
            == 1
        )
