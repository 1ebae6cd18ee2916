"""Helpers for the recording tests: the pm_sim and `pm-intel record` settings of the session recording (made in
tests/integration/recording/conftest.py), and readers of a recording's files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from pm_sim.testing import SimHandle

SIM = {"seed": 5, "markets": 40, "trades_per_second": 4.0, "history_hours": 2.0, "ws_rate": 20.0}
RECORD = ["--top", "3", "--history", "30m", "--activity-min-usdc", "50", "--interval", "1s"]


@dataclass
class SimRecording:
    folder: Path
    sim: SimHandle
    sessions: list[dict[str, int]]  # lines per source after each session


def read_lines(folder: Path, source: str) -> list[dict]:
    path = folder / f"{source}.jsonl"
    return [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []


def recorded_fills(folder: Path) -> Counter:
    """The recorded trades as a multiset of the fields pm_sim's emitted rows carry."""
    return Counter(
        (
            r["transaction_hash"],
            r["token_id"],
            r["proxy_wallet"],
            r["side"],
            repr(float(r["price"])),
            repr(float(r["size"])),
            str(r["timestamp"]),
        )
        for r in (line["object"] for line in read_lines(folder, "data_trades"))
    )


def point_clients_at(monkeypatch: pytest.MonkeyPatch, server) -> None:
    monkeypatch.setenv("POLYMARKET_GAMMA_URL", server.gamma_url)
    monkeypatch.setenv("POLYMARKET_CLOB_URL", server.clob_url)
    monkeypatch.setenv("POLYMARKET_DATA_URL", server.data_url)
    monkeypatch.setenv("POLYMARKET_WS_URL", server.ws_url)


def line_counts(folder: Path) -> dict[str, int]:
    return {p.stem: len(p.read_bytes().splitlines()) for p in folder.glob("*.jsonl")}
