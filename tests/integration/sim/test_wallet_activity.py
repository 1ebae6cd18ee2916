"""`/v2/activity` for an ordinary wallet follows that wallet's own fills (a lazy per-wallet index), not the
whole history, and answers exactly what the full feed says about the wallet."""

from __future__ import annotations

import collections

from pm_sim.testing import running_sim
from tests import loopback


def _walk(url: str, params: dict) -> list[dict]:
    rows, cursor = [], None
    while True:
        page = loopback.get(url, params=params | ({"cursor": cursor} if cursor else {}), timeout=60).json()
        rows += page["data"]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            return rows


def _fill(r: dict) -> tuple:
    return (r["transaction_hash"], r["token_id"], r["side"], r["size"], r["price"], r["timestamp"])


def test_activity_equals_the_feed_and_touches_only_the_wallets_fills():
    with running_sim(seed=3, markets=600, history_hours=1.0, trades_per_second=4.0) as s:
        books = sorted((m for m in s.world.markets if m.has_book), key=lambda m: m.weight)
        busy = books[len(books) * 3 // 4]  # a well-traded market, not the very busiest
        special = {s.world.wallet_address(i) for i in range(30)}  # whales and market makers
        seen = collections.Counter(
            r["proxy_wallet"]
            for r in _walk(s.data_url + "/v2/trades", {"condition": busy.condition_id, "limit": 1000})
        )
        ordinary = [w for w, c in sorted(seen.items()) if c == 1 and w not in special][:4]
        flow = s.sim.flow
        before = flow.generated  # measured before anything walks the whole history (and warms its caches)
        acts = {w: _walk(s.data_url + "/v2/activity", {"user": w, "limit": 2}) for w in ordinary}
        work = flow.generated - before
        n_fills = loopback.get(s.admin_url + "/emitted/trades", params={"start": 0, "end": 4e9}).json()[
            "count"
        ]
        assert len(ordinary) == 4 and n_fills > 5_000
        # Only the (bucket, market) cells holding these wallets' fills were materialised; scanning the
        # history for the first of them would have materialised every fill once.
        assert work < n_fills / 10

        feed = _walk(s.data_url + "/v2/trades", {"taker_only": "false", "limit": 1000})
        whale = collections.Counter(r["proxy_wallet"] for r in feed).most_common(1)[0][0]
        acts[whale] = _walk(s.data_url + "/v2/activity", {"user": whale, "limit": 500})
        for w, rows in acts.items():
            assert [_fill(a) for a in rows if a["type"] == "TRADE"] == [
                _fill(r) for r in feed if r["proxy_wallet"] == w
            ]
            assert rows[-1]["type"] == "SPLIT"
