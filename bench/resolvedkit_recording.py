"""Convert resolvedkit's bundled sample (real Polymarket books) into a pm-intel recording (pm_sim/RECORDING.md).

The PyPI package `resolvedkit` (MIT; its sample data © Resolved Markets, CC BY 4.0) ships real 20-level order
books of 18 consecutive "Bitcoin Up or Down 15m" markets of 2026-09-28, one snapshot per token and second with
millisecond timestamps, and their resolutions. This writes them as:
- `ws_market`: one websocket `book` frame per snapshot row, received at the snapshot's own timestamp;
- `gamma_markets` / `gamma_events`: a Gamma market object per market (and a one-market event), once as listed
  (at its first snapshot) and once closed (at its end);
- `data_resolutions`: one `/v2/resolutions` row per resolved market, at its end.
Trades, REST books, price history and wallet activity are not in the sample: the recording lacks those
sources. The data stays in the installed package: nothing is copied into the repository.

Derived (not in the sample; documented in pm_sim/RECORDING.md): token ids (decimal digits of SHA-256 of the
condition id and outcome), Gamma and event ids, each book's `hash` (the §2.1 rule over the frame as written),
`tick_size` 0.01, `min_order_size` 5, `neg_risk` false, `last_trade_price` "", Gamma's dates and flags, the fee
schedule (resolvedkit's crypto taker rate 0.07, exponent 1), the resolution row's fields besides `payouts`.

Usage: python -m bench.resolvedkit_recording OUT_DIR
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from pm_sim.recording import FORMAT, FORMAT_VERSION, RecordingWriter, write_manifest

TICK = "0.01"
FEE_SCHEDULE = {"exponent": 1, "rate": 0.07, "takerOnly": True, "rebateRate": 0}
DERIVED = [
    "token ids: decimal digits of sha256(condition_id + ':' + outcome)",
    "Gamma market/event ids, event objects, dates, flags; feeSchedule from resolvedkit.fees (crypto 0.07)",
    "book frames: hash (polymarket-api.md §2.1 rule), tick_size 0.01, min_order_size 5, neg_risk false, "
    "last_trade_price empty",
    "resolution rows: every field except condition_id and payouts",
]


def token_id(condition_id: str, outcome: str) -> str:
    digest = hashlib.sha256(f"{condition_id}:{outcome}".encode()).digest()
    return str(int.from_bytes(digest[:31], "big"))


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_space(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def book_frame(condition_id: str, token: str, row: dict[str, Any]) -> dict[str, Any]:
    """A websocket `book` event as upstream writes it: strings, bids ascending and asks descending (best last)."""
    bids = [{"price": _num(p), "size": _num(s)} for p, s in zip(row["bid_px"], row["bid_sz"], strict=True)]
    asks = [{"price": _num(p), "size": _num(s)} for p, s in zip(row["ask_px"], row["ask_sz"], strict=True)]
    book: dict[str, Any] = {
        "market": condition_id,
        "asset_id": token,
        "timestamp": str(row["ts"]),
        "hash": "",
        "bids": bids[::-1],
        "asks": asks[::-1],
        "min_order_size": "5",
        "tick_size": TICK,
        "neg_risk": False,
        "last_trade_price": "",
    }
    book["hash"] = hashlib.sha1(json.dumps(book, separators=(",", ":")).encode()).hexdigest()  # noqa: S324
    book["event_type"] = "book"
    return book


def _ids(condition_id: str) -> tuple[str, str]:
    n = int(condition_id[2:14], 16)
    return str(900_000 + n % 100_000_000), str(80_000 + n % 10_000_000)


def gamma_market(m: dict[str, Any], tokens: list[str], closed: bool) -> dict[str, Any]:
    market_id, event_id = _ids(m["market_id"])
    outcomes = [m["outcome_up"], m["outcome_down"]]
    obj: dict[str, Any] = {
        "id": market_id,
        "question": m["question"],
        "conditionId": m["market_id"],
        "slug": m["slug"],
        "resolutionSource": "https://data.chain.link/streams/btc-usd",
        "endDate": _iso(m["end_ts"]),
        "startDate": _iso(m["start_ts"]),
        "outcomes": json.dumps(outcomes),
        "active": True,
        "closed": closed,
        "archived": False,
        "questionID": "0x" + hashlib.sha256(m["slug"].encode()).hexdigest(),
        "enableOrderBook": True,
        "orderPriceMinTickSize": float(TICK),
        "orderMinSize": 5,
        "endDateIso": _iso(m["end_ts"])[:10],
        "clobTokenIds": json.dumps(tokens),
        "acceptingOrders": not closed,
        "negRisk": False,
        "feesEnabled": True,
        "feeSchedule": FEE_SCHEDULE,
        "version": "v1",
        "events": [{"id": event_id, "slug": m["slug"], "title": m["question"]}],
    }
    if closed:
        obj["closedTime"] = _iso_space(m["end_ts"])
        if m["payout_up"] is not None:
            obj["outcomePrices"] = json.dumps([_num(m["payout_up"]), _num(m["payout_down"])])
            obj["umaResolutionStatus"] = "resolved"
    return obj


def gamma_event(m: dict[str, Any], market: dict[str, Any]) -> dict[str, Any]:
    _, event_id = _ids(m["market_id"])
    return {
        "id": event_id,
        "ticker": m["slug"],
        "slug": m["slug"],
        "title": m["question"],
        "startDate": _iso(m["start_ts"]),
        "endDate": _iso(m["end_ts"]),
        "active": True,
        "closed": market["closed"],
        "negRisk": False,
        "category": m["category"],
        "markets": [market],
    }


def resolution_row(m: dict[str, Any]) -> dict[str, Any]:
    up = m["payout_up"]
    return {
        "condition_id": m["market_id"],
        "status": "resolved",
        "payouts": [int(round(up * 1_000_000)), int(round(m["payout_down"] * 1_000_000))],
        "was_disputed": False,
        "was_arbitrated": False,
        "extended_review": False,
        "reporter": "CHAINLINK",
        "resolution_source": "reported",
        "resolved_at": _iso(m["end_ts"]),
        "market_type": "BINARY",
        "last_update_timestamp": m["end_ts"] // 1000,
    }


def _read(name: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(str(files("resolvedkit") / "sample_data" / name)).to_pylist()


def convert(out_dir: str | Path, books: Iterable[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write the sample as a recording into `out_dir`; returns its manifest."""
    markets = _read("markets.parquet")
    rows = sorted(books if books is not None else _read("books.parquet"), key=lambda r: (r["ts"], r["side"]))
    tokens = {m["market_id"]: [token_id(m["market_id"], o) for o in ("UP", "DOWN")] for m in markets}
    first: dict[str, int] = {}
    for r in rows:
        first.setdefault(r["market_id"], r["ts"])
    listed = [(first.get(m["market_id"], m["start_ts"]), m) for m in markets]
    with RecordingWriter(out_dir) as writer:
        for at, m in sorted(listed, key=lambda x: x[0]):
            obj = gamma_market(m, tokens[m["market_id"]], closed=False)
            writer.append("gamma_markets", at / 1000, {"method": "GET", "path": "/markets/keyset"}, obj)
            writer.append(
                "gamma_events", at / 1000, {"method": "GET", "path": "/events/keyset"}, gamma_event(m, obj)
            )
        for r in rows:
            side = 0 if r["side"] == "UP" else 1
            frame = book_frame(r["market_id"], tokens[r["market_id"]][side], r)
            writer.append_frame(r["ts"] / 1000, json.dumps(frame, separators=(",", ":")), connection=1)
        for m in sorted(markets, key=lambda m: m["end_ts"]):
            obj = gamma_market(m, tokens[m["market_id"]], closed=True)
            at = m["end_ts"] / 1000
            writer.append("gamma_markets", at, {"method": "GET", "path": "/markets/keyset"}, obj)
            writer.append(
                "gamma_events", at, {"method": "GET", "path": "/events/keyset"}, gamma_event(m, obj)
            )
            if m["payout_up"] is not None:
                params = {"condition": m["market_id"]}
                writer.append(
                    "data_resolutions",
                    at,
                    {"method": "GET", "path": "/v2/resolutions", "params": params},
                    resolution_row(m),
                )
    times = [r["ts"] / 1000 for r in rows] + [m["end_ts"] / 1000 for m in markets]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "selection": {"source": f"resolvedkit {version('resolvedkit')} sample_data"},
        "markets": [
            {"condition_id": m["market_id"], "slug": m["slug"], "tokens": tokens[m["market_id"]]}
            for m in markets
        ],
        "span": {"start": min(times), "end": max(times)},
        "derived": DERIVED,
        "license": "resolvedkit sample data (c) Resolved Markets, CC BY 4.0",
    }
    write_manifest(out_dir, manifest)
    return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    manifest = convert(argv[0])
    print(f"wrote {argv[0]}: {len(manifest['markets'])} markets, span {manifest['span']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
