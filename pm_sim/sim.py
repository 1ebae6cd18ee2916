"""The simulator core: world + trade flow + planted truth + clock, shared by every API surface."""

from __future__ import annotations

import hashlib
import json

from .books import book_dict
from .clock import Clock
from .config import SimConfig
from .faults import Faults
from .fmt import num_str
from .ground_truth import Planter
from .trades import TradeFlow, tx_hash
from .world import Market, World


class Sim:
    def __init__(self, cfg: SimConfig):
        self.cfg = cfg
        self.world = World(cfg)
        self.flow = TradeFlow(self.world)
        self.truth = Planter(self.world, self.flow).plant_all()
        self.clock = Clock(cfg.start, cfg.speed)
        self.faults = Faults.parse(cfg.faults)
        if not cfg.data_v1 and not cfg.legacy:  # the legacy contract is v1: its routes cannot be retired
            self.faults.set("data_v1_off", True)
        self.served = {"http": 0, "ws_messages": 0}

    def now(self) -> float:
        return self.clock.now()

    def token(self, token_id: str) -> tuple[Market, int] | None:
        hit = self.world.by_token.get(token_id)
        if hit is None:
            return None
        return self.world.markets[hit[0]], hit[1]

    def book_available(self, m: Market, t: float) -> bool:
        return m.has_book and m.created_at <= t < m.close_time

    def ltp(self, m: Market, outcome: int, now_ms: int) -> tuple[str, str]:
        r = self.flow.last_trade(m.idx, outcome, now_ms)
        if r is None:
            return "", ""
        return num_str(r[7], 4), ("BUY" if r[4] == 0 else "SELL")

    def book(self, m: Market, outcome: int, t: float, ws: bool = False) -> dict:
        ltp = self.ltp(m, outcome, int(t * 1000))[0]
        return book_dict(self.world, m, outcome, t, ltp, ws)

    def ground_truth(self, upto: float | None = None) -> list[dict]:
        t = self.now() if upto is None else upto
        return [r for r in self.truth if r["start_ts"] <= t]

    def write_ground_truth(self, path: str) -> None:
        with open(path, "w") as fh:
            json.dump({"seed": self.cfg.seed, "start": self.cfg.start, "records": self.truth}, fh, indent=1)

    def emitted_trades(self, start: float, end: float, include_rows: bool = False) -> dict:
        """Canonical taker fills with start <= ts <= min(end, now): count + checksum (+ rows)."""
        now_ms = int(self.now() * 1000)
        hi = min(int(end * 1000), now_ms)
        lo = max(int(start * 1000), int(self.world.history_start * 1000))
        digest = hashlib.sha256()
        rows = []
        n = 0
        occ: dict = {}
        for r in self.flow.iter_rows(hi, lo):
            m = self.world.markets[r[1]]
            tx = tx_hash(self.cfg.seed, r[8])
            key = (tx, m.token_ids[r[5]], r[3], r[4], r[7], r[6])
            occ[key] = occ.get(key, 0) + 1
            line = (
                f"{tx}|{m.token_ids[r[5]]}|{self.world.wallet_address(r[3])}|{'BUY' if r[4] == 0 else 'SELL'}"
                f"|{r[7]!r}|{r[6]!r}|{r[0] // 1000}|{occ[key]}"
            )
            digest.update(line.encode() + b"\n")
            n += 1
            if include_rows:
                rows.append(line)
        out = {
            "count": n,
            "sha256": digest.hexdigest(),
            "start": lo // 1000,
            "end": hi // 1000,
            "line_format": "tx|token_id|wallet|side|price|size|timestamp_s|occurrence",
        }
        if include_rows:
            out["rows"] = rows
        return out

    def market_summary(self) -> dict:
        t = self.now()
        w = self.world
        per_version: dict = {}
        for m in w.markets:
            k = m.version or "none"
            per_version[k] = per_version.get(k, 0) + 1
        return {
            "markets": len(w.markets),
            "events": len(w.events),
            "per_version": per_version,
            "open": sum(1 for m in w.markets if m.created_at <= t < m.close_time),
            "closed": sum(1 for m in w.markets if m.close_time <= t),
            "neg_risk_events": sum(1 for e in w.events if e.neg_risk),
            "with_book": sum(1 for m in w.markets if m.has_book),
            "tokens": len(w.by_token),
        }
