"""Polymarket's official Python SDK (`polymarket-client`, import `polymarket`) reads pm_sim unchanged.

The SDK is pointed at pm_sim only by its base URLs: a copy of its production environment with
`gamma_url`, `clob_url`, `data_url` and `clob_market_ws_url` replaced. The SDK has no public
constructor for an environment, so the copy goes through `polymarket._internal.environment`
(`with_environment_config`), which is how its own tests build one; nothing else is patched.

Each test walks the SDK's own paginators to the end and checks the answers against pm_sim's
record (the admin API or a raw read), so a shape the SDK silently drops fails here too.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from decimal import Decimal

import pytest
from polymarket import AsyncPublicClient, PublicClient
from polymarket._internal.environment import PRODUCTION_CONFIG, with_environment_config
from polymarket.environments import PRODUCTION
from polymarket.errors import RequestRejectedError
from polymarket.streams import MarketSpec

from tests import loopback
from tests.support.sim import pick


def sdk_environment(sim):
    cfg = dataclasses.replace(
        PRODUCTION_CONFIG,
        gamma_url=sim.gamma_url,
        clob_url=sim.clob_url,
        data_url=sim.data_url,
        clob_market_ws_url=sim.ws_url,
    )
    return with_environment_config(PRODUCTION, config=cfg)


@pytest.fixture(scope="module")
def client(sim):
    with PublicClient(sdk_environment(sim)) as c:
        yield c


def walk(paginator) -> tuple[list, int]:
    """Every item of every page, and the number of pages the SDK fetched."""
    items, pages = [], 0
    for page in paginator:
        items.extend(page.items)
        pages += 1
    return items, pages


def _open_events(sim, version: str | None) -> set[str]:
    w, t = sim.world, sim.sim.now()
    out = set()
    for ev in w.events:
        ms = [w.markets[j] for j in ev.markets]
        if min(m.created_at for m in ms) > t or t >= max(m.close_time for m in ms):
            continue
        if version is None or any((m.version == "v2") == (version == "v2") for m in ms):
            out.add(ev.id)
    return out


@pytest.mark.parametrize("version", ["v1", "v2", None])
def test_gamma_keyset_markets_and_events_to_the_end(sim, markets, client, version):
    """`/markets/keyset` and `/events/keyset` per generation (and both at once, as the SDK sends
    `version=v1&version=v2`), paged with `after_cursor` until `next_cursor` is omitted."""
    versions = ("v1", "v2") if version is None else version
    got, pages = walk(client.list_markets(version=versions, page_size=7))
    want = {
        m["id"]
        for m in markets
        if m["open"] and (version is None or (m["version"] == "v2") == (version == "v2"))
    }
    assert pages > 2
    assert [m.id for m in got] and sorted(m.id for m in got) == sorted(want)  # each once, none missing
    assert all((m.version == "v2") == (version == "v2") for m in got) or version is None
    evs, pages = walk(client.list_events(version=versions, page_size=5))
    assert pages > 1 and sorted(e.id for e in evs) == sorted(_open_events(sim, version))


def test_closed_markets_and_missing_books(markets, client):
    """`closed=true` lists exactly the settled markets (Gamma hides them by default, §6.7); their books are
    the documented 404, which the SDK raises as a rejected request."""
    closed = [m for m in markets if not m["open"]]
    got, _ = walk(client.list_markets(closed=True, version=("v1", "v2"), page_size=2))
    assert closed and sorted(m.id for m in got) == sorted(m["id"] for m in closed)
    assert client.get_market(id=closed[0]["id"]).state.closed is True
    with pytest.raises(RequestRejectedError) as err:
        client.get_order_book(token_id=closed[0]["token_ids"][0])
    assert err.value.status == 404


def test_gamma_market_and_event_by_id_and_slug(markets, client):
    m = pick(markets, open=True, version="v2")
    by_id = client.get_market(id=m["id"])
    assert (
        by_id.version == "v2" and by_id.condition_id == m["gamma_condition_id"]
    )  # Gamma keeps the 62-hex form
    assert [o for o in by_id.position_ids] == m["token_ids"]
    assert client.get_market(slug=by_id.slug).id == m["id"]
    ev = client.get_event(id=m["event_id"])
    assert m["id"] in {x.id for x in ev.markets}
    assert client.get_event(slug=ev.slug).id == ev.id


@pytest.mark.parametrize(
    "want",
    [{"version": "v2"}, {"version": "v1"}, {"version": None}, {"version": "v2", "tick": 0.0025}],
    ids=["v2", "v1", "unversioned", "tick0.0025"],
)
def test_clob_reads_with_position_ids(sim, markets, client, want):
    m = pick(markets, open=True, has_book=True, **want)
    yes, no = m["token_ids"]
    raw = loopback.get(sim.clob_url + "/book", params={"token_id": yes}).json()
    book = client.get_order_book(token_id=yes)
    assert (book.asset_id, book.condition_id, book.hash) == (yes, m["condition_id"], raw["hash"])
    bid, ask = max(x.price for x in book.bids), min(x.price for x in book.asks)
    assert client.get_price(token_id=yes, side="BUY") == bid  # BUY = best bid (§2.3)
    assert client.get_price(token_id=yes, side="SELL") == ask
    assert client.get_midpoint(token_id=yes) == (bid + ask) / 2
    assert client.get_spread(token_id=yes) == ask - bid
    assert set(client.get_midpoints(token_ids=[yes, no])) == {yes, no}
    assert set(client.get_spreads(token_ids=[yes, no])) == {yes, no}
    ltp = client.get_last_trade_price(token_id=yes)
    assert ltp is not None and ltp.price == Decimal(raw["last_trade_price"])
    assert {x.asset_id for x in client.get_last_trade_prices(token_ids=[yes, no])} <= {yes, no}
    books = client.get_order_books(token_ids=[yes, no])
    assert [b.asset_id for b in books] == [yes, no] and books[0].hash == book.hash
    # Tick size: the SDK's public client reads it from the book (it calls /tick-size only inside order
    # preparation), so check the book's tick against /tick-size and Gamma.
    tick = loopback.get(sim.clob_url + "/tick-size", params={"token_id": yes}).json()["minimum_tick_size"]
    assert book.tick_size == Decimal(str(tick)) == Decimal(str(m["tick"]))
    assert client.get_market(id=m["id"]).trading.minimum_tick_size == book.tick_size


def _fill_key(t) -> tuple:
    return (t.transaction_hash, t.asset_id, t.wallet, t.side, t.price, t.size, int(t.timestamp.timestamp()))


def _raw_key(r) -> tuple:
    return (
        r["transaction_hash"],
        r["token_id"],
        r["proxy_wallet"],
        r["side"],
        Decimal(str(r["price"])),
        Decimal(str(r["size"])),
        r["timestamp"],
    )


@pytest.fixture(scope="module")
def busy_market(sim, markets) -> dict:
    """An open v2 market with a few pages of trades."""
    for m in markets:
        if m["open"] and m["has_book"] and m["version"] == "v2":
            n = len(
                loopback.get(
                    sim.data_url + "/v2/trades", params={"condition": m["condition_id"], "limit": 1000}
                ).json()["data"]
            )
            if n >= 45:
                return m
    raise LookupError("no busy v2 market")


def test_data_v2_trades_by_condition_cursor_paging(sim, client, busy_market):
    cid = busy_market["condition_id"]
    got, pages = walk(client.list_trades(condition_id=cid, page_size=20))
    raw = loopback.get(sim.data_url + "/v2/trades", params={"condition": cid, "limit": 1000}).json()
    assert pages >= 3 and raw["pagination"]["next_cursor"] is None
    assert [_fill_key(t) for t in got] == [_raw_key(r) for r in raw["data"]]
    assert all(a.timestamp >= b.timestamp for a, b in zip(got, got[1:], strict=False))  # newest first
    assert {t.condition_id for t in got} == {cid}


def test_data_v2_activity_for_a_user(sim, client, busy_market):
    trades, _ = walk(client.list_trades(condition_id=busy_market["condition_id"], page_size=200))
    # A wallet trading a few times here (real flow: about half of all wallets trade once, whose activity is one
    # page; market makers' runs to thousands of rows).
    counts = collections.Counter(t.wallet for t in trades)
    wallet = next(w for w, c in sorted(counts.items()) if 2 <= c <= 6)
    acts, pages = walk(client.list_activity(user=wallet, page_size=3))
    assert pages >= 2 and all(a.wallet == wallet for a in acts)
    assert acts[-1].type == "SPLIT" and acts[-1].condition_id  # first activity: wallet age is knowable
    assert all(a.timestamp >= b.timestamp for a, b in zip(acts, acts[1:], strict=False))
    own, _ = walk(client.list_trades(user=wallet, page_size=50))
    taker = {(t.transaction_hash, t.asset_id, t.side, t.size) for t in own}
    seen = {(a.transaction_hash, a.asset_id, a.side, a.shares) for a in acts if a.type == "TRADE"}
    assert taker and taker <= seen  # activity also carries the wallet's maker fills


def test_data_v2_holders_and_positions_agree(client, busy_market):
    cid = busy_market["condition_id"]
    groups, _ = walk(client.list_market_holders(condition_ids=cid))
    assert {g.asset_id for g in groups} == set(busy_market["token_ids"])
    top = max((h for g in groups for h in g.holders), key=lambda h: h.amount)
    mine, _ = walk(client.list_positions(user=top.wallet, condition_id=cid))
    row = next(p for p in mine if p.asset_id == top.asset_id)
    assert row.current_size == top.amount and row.status == "OPEN"
    everyone, pages = walk(client.list_positions(condition_id=cid, page_size=10))
    assert pages >= 2 and any(p.wallet == top.wallet and p.current_size == top.amount for p in everyone)
    assert all(p.current_value >= q.current_value for p, q in zip(everyone, everyone[1:], strict=False))
    value = client.get_portfolio_value(user=top.wallet).value
    total, _ = walk(client.list_positions(user=top.wallet))
    assert abs(value - sum(p.current_value for p in total)) < Decimal("0.01")
    assert client.get_open_interests(condition_ids=cid)[0].condition_id == cid


def test_data_v2_resolutions(sim, markets, client):
    live = pick(markets, open=True, version="v2")
    done = [m for m in markets if not m["open"]]
    res = client.get_resolutions(condition_ids=[live["condition_id"]] + [m["condition_id"] for m in done])
    by = {r.condition_id: r for r in res}
    assert by[live["condition_id"]].status == "active" and by[live["condition_id"]].payouts is None
    resolved = [r for r in res if r.status == "resolved"]
    assert resolved and all(sorted(r.payouts) == [0, 1] and r.resolved_at for r in resolved)


def test_data_v2_prices_history_pages(sim, client, busy_market):
    tok = busy_market["token_ids"][0]
    pts, pages = walk(client.list_price_history(asset_id=tok, interval="1d", page_size=50))
    raw = loopback.get(
        sim.data_url + "/v2/prices-history", params={"token_id": tok, "interval": "1d"}
    ).json()["data"]
    assert pages >= 3 and [int(p.timestamp.timestamp()) for p in pts] == [r["timestamp"] for r in raw]
    step = pts[0].resolution_seconds
    assert all(
        (b.timestamp - a.timestamp).total_seconds() == step for a, b in zip(pts, pts[1:], strict=False)
    )
    assert all(0 <= p.price <= 1 for p in pts)
    # A start/end window with explicit buckets, and an exact `as_of` read, agree with the interval walk.
    mid = pts[len(pts) // 2].timestamp
    win, _ = walk(
        client.list_price_history(asset_id=tok, start=mid, end=pts[-1].timestamp, bucket_seconds=step * 2)
    )
    assert {p.resolution_seconds for p in win} == {step * 2} and win[0].timestamp == mid
    same, _ = walk(
        client.list_price_history(asset_id=tok, start=mid, end=pts[-1].timestamp, bucket_seconds=step)
    )
    assert same[-1].timestamp == pts[-2].timestamp  # end-exclusive, as the SDK documents its windows
    assert {(p.timestamp, p.price) for p in win} <= {(p.timestamp, p.price) for p in pts}
    (exact,), _ = walk(client.list_price_history(asset_id=tok, as_of=mid))
    assert (exact.timestamp, exact.price, exact.resolution_seconds) == (mid, pts[len(pts) // 2].price, 0)


async def test_market_stream_books_deltas_and_fills(sim):
    """The SDK's market-channel stream parses pm_sim's frames into its typed events: the initial books,
    price changes, fills, and the fresh book that follows an asset's fills."""
    t = sim.sim.now()
    busiest = max(
        (
            m
            for m in sim.world.markets
            if m.has_book and m.version == "v2" and m.created_at <= t and m.close_time > t + 3600
        ),
        key=lambda m: m.weight,
    )
    tokens = list(busiest.token_ids)
    async with AsyncPublicClient(sdk_environment(sim)) as c:
        handle = await c.subscribe(MarketSpec(token_ids=tokens, custom_feature_enabled=True))
        try:
            events = handle.__aiter__()
            first = [await asyncio.wait_for(events.__anext__(), 60) for _ in tokens]
            assert {e.type for e in first} == {"book"} and {e.payload.asset_id for e in first} == set(tokens)
            await asyncio.to_thread(sim.advance, 600)
            seen, filled = [], set()
            while len(seen) < 5000:
                e = await asyncio.wait_for(events.__anext__(), 60)
                seen.append(e.type)
                if e.type == "last_trade_price":
                    filled.add(e.payload.asset_id)
                elif e.type == "book" and e.payload.asset_id in filled:
                    assert e.payload.last_trade_price is not None
                    break
            assert "price_change" in seen and seen[-1] == "book"
        finally:
            await handle.close()


def test_gamma_62_hex_condition_id_on_market_reads(markets, client):
    """The SDK pads Gamma's 31-byte (62-hex) v2 condition id to the 66-character form for market-keyed
    reads (resolutions, holders), which is what the contract asks clients to do (§L.1)."""
    m = pick(markets, open=True, has_book=True, version="v2")
    (res,) = client.get_resolutions(condition_ids=m["gamma_condition_id"])
    assert res.condition_id == m["condition_id"]
    assert {
        g.asset_id
        for g in client.list_market_holders(condition_ids=m["gamma_condition_id"]).first_page().items
    } == set(m["token_ids"])


@pytest.mark.xfail(
    strict=True,
    raises=RequestRejectedError,
    reason="SDK behaviour: list_trades/list_activity use the 'feed' condition grammar "
    "(polymarket.models.types.to_condition_id), which accepts Gamma's 31-byte id and sends it "
    "unpadded; the contract (polymarket-api.md §L.1) says Data API v2 refuses the 62-hex form "
    "with a 400, so pm_sim follows the doc and the SDK call fails.",
)
def test_sdk_sends_62_hex_condition_to_the_trade_feed(markets, client):
    m = pick(markets, open=True, has_book=True, version="v2")
    assert walk(client.list_trades(condition_id=m["gamma_condition_id"], page_size=50))[0]
