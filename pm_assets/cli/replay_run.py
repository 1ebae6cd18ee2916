"""`pm-intel replay DIR`: the production ingestion and signal assets over a recording, in a throwaway database.

The recording is served by pm_sim's replay server (pm_sim/replay) on a frozen clock at the recording's end, and
the pipeline reads it through its own clients, exactly as it reads Polymarket:
1. the universe (`events`, `markets`/`tokens`) and `market_resolutions`, as Gamma and the Data API show them at
   the end of the recording;
2. `trades`, one daily partition per UTC day the recording covers (the backfill walk of `condition=` pages),
   and `price_points` likewise when the recording has price history;
3. REST book snapshots at the times they were recorded: the clock is set to each recorded round and the
   `order_book_snapshots` asset's own function stores what `POST /books` answers, captured at that time;
4. every recorded websocket frame through the stream consumer's own parse/apply/persist path
   (`StreamConsumer.handle_frame` and `write_batch`), received at its recorded time;
5. `wallets` (first activity from the recorded `/v2/activity`), then the insider signal assets and the market
   signal assets (`arbitrage_windows`, `price_spikes`) with the catalogue's documented defaults, overridden
   only by `--threshold SIGNAL_TYPE.NAME=VALUE`.
Every step is a Dagster `materialize` of the production asset, except 3 and 4, which call the plain functions
the asset and the stream run call. The same recording and thresholds give the same figures.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql

from pm_sim.recording import WS_SOURCE, Recording, observed_market_days

log = logging.getLogger("pm_intel.replay")

MARKET_SIGNALS = ("arbitrage_windows", "price_spikes")
FRAME_BATCH_ROWS = 20_000


class ReplayRunError(RuntimeError):
    """A replay that cannot run; the message says why."""


@dataclass
class ReplayResult:
    trades: int
    markets: int
    market_days: int
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "trades": self.trades,
            "markets": self.markets,
            "market_days": self.market_days,
            "signals": self.signals,
        }


# ---------------------------------------------------------------------------------------------- thresholds
def _op_signal_types() -> dict[str, str]:
    """Asset (op) name -> threshold signal type, for every signal asset the replay runs."""
    from pm_assets.signals.insider_signals import CONFIGURED
    from pm_assets.signals.specs import SIGNALS

    return {**CONFIGURED, **{s.asset: s.signal_type for s in SIGNALS if s.asset in MARKET_SIGNALS}}


def parse_thresholds(items: list[str]) -> dict[str, dict[str, Any]]:
    """`SIGNAL_TYPE.NAME=VALUE` items, validated by the threshold catalogue: {signal_type: {name: value}}."""
    from pm_assets.signals import thresholds as th

    runnable = set(_op_signal_types().values())
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        signal_type, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise th.ThresholdError(f"--threshold takes SIGNAL_TYPE.NAME=VALUE, got {item!r}")
        value = th.validate(signal_type, name, raw.strip())
        if signal_type not in runnable:
            raise th.ThresholdError(
                f"{signal_type} is not a signal the replay runs; it runs {', '.join(sorted(runnable))}"
            )
        out.setdefault(signal_type, {})[name] = value
    return out


def run_config(overrides: dict[str, dict[str, Any]], ops: list[str]) -> dict[str, Any]:
    """Each op's config: the catalogue's documented defaults (never the environment's), then the overrides."""
    from pm_assets.signals import thresholds as th

    types = _op_signal_types()
    config: dict[str, Any] = {}
    for op in ops:
        signal_type = types.get(op)
        if signal_type is None:
            continue
        values = {n: t.default for n, t in th.catalogue().get(signal_type, {}).items()}
        values.update(overrides.get(signal_type, {}))
        config[op] = {"config": values}
    return {"ops": config}


# ---------------------------------------------------------------------------------------------- database
@contextlib.contextmanager
def throwaway_database(keep: bool = False) -> Iterator[str]:
    """A fresh migrated database beside the warehouse (embedded server, or DATABASE_URL's), dropped after."""
    from pm_assets.storage import migrate
    from pm_assets.storage.database import resolve_urls
    from pm_assets.storage.settings import load_settings
    from pm_assets.storage.urls import libpq_url, with_database

    server = resolve_urls(load_settings()).warehouse
    name = f"pm_intel_replay_{os.getpid()}"
    maintenance = libpq_url(with_database(server, "postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = libpq_url(with_database(server, name))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        if keep:
            log.warning("replay: kept the database %s", name)
        else:
            with psycopg.connect(maintenance, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


# ---------------------------------------------------------------------------------------------- steps
def _ok(result: dg.ExecuteInProcessResult, what: str) -> None:
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        detail = ""
        if failures:
            err = failures[0].event_specific_data.error  # type: ignore[union-attr]
            if err is not None:
                detail = ": " + (err.cause or err).message.strip().splitlines()[-1]
        raise ReplayRunError(f"{what} failed{detail}")


def _days(first: float, last: float) -> list[str]:
    day, end = datetime.fromtimestamp(first, UTC).date(), datetime.fromtimestamp(last, UTC).date()
    out = []
    while day <= end:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _trade_span(rec: Recording) -> tuple[float, float] | None:
    times = [
        float(r["timestamp"])
        for _, r in rec.objects("data_trades")
        if isinstance(r, dict) and r.get("timestamp")
    ]
    return (min(times), max(times)) if times else None


def _book_rounds(rec: Recording) -> list[tuple[float, list[str]]]:
    rounds: dict[float, list[str]] = {}
    for received, book in rec.objects("clob_books"):
        if isinstance(book, dict) and book.get("asset_id"):
            rounds.setdefault(received, []).append(str(book["asset_id"]))
    return [(t, list(dict.fromkeys(toks))) for t, toks in sorted(rounds.items())]


def feed_frames(rec: Recording, url: str) -> dict[str, int]:
    """Every recorded websocket frame through the stream consumer's parse/apply/persist path, at its time."""
    from pm_sensors.stream.consumer import StreamConsumer
    from pm_sensors.stream.persistence import prepare_writer, write_batch
    from pm_sensors.stream.settings import StreamSettings

    consumer = StreamConsumer(StreamSettings(ws_url="replay://recording"), url)
    written: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        prepare_writer(conn, "on")

        def flush() -> None:
            batch = consumer.buffer.take()
            if batch:
                for table, n in write_batch(conn, batch).items():
                    written[table] = written.get(table, 0) + n

        for line in rec.lines(WS_SOURCE):  # appended as received: already in time order, streamed
            consumer.handle_frame(line.frame or "", line.received_at)
            if consumer.buffer.pending >= FRAME_BATCH_ROWS:
                flush()
        flush()
    stats = consumer.stats
    return {"frames": stats.frames, "bad_frames": stats.bad_frames, "duplicates": stats.duplicates, **written}


def replay_recording(
    folder: str, thresholds: dict[str, dict[str, Any]] | None = None, *, keep_db: bool = False
) -> ReplayResult:
    """Run the pipeline over the recording in `folder`; the figures of `pm-intel replay --json`."""
    from pm_assets.books.capture import snapshot_books
    from pm_assets.markets.assets import events, markets_and_tokens
    from pm_assets.markets.resolutions import market_resolutions
    from pm_assets.prices.assets import price_history
    from pm_assets.resources.clob import ClobClient
    from pm_assets.resources.data_api import DataApiClient
    from pm_assets.resources.gamma import GammaClient
    from pm_assets.resources.warehouse import WarehouseResource
    from pm_assets.signals.insider_assets import ASSETS as INSIDER_ASSETS
    from pm_assets.signals.market_assets import arbitrage_windows, price_spikes
    from pm_assets.trades.assets import trades
    from pm_assets.wallets.assets import wallets
    from pm_sim.replay.server import running_replay

    rec = Recording(folder)
    span = rec.span()
    if span is None:
        raise ReplayRunError(f"{folder} holds nothing to replay")
    start, end = span
    overrides = thresholds or {}
    with throwaway_database(keep_db) as url, running_replay(folder, speed=0.0, start=end) as server:
        warehouse = WarehouseResource(database_url=url)
        clob = ClobClient(base_url=server.clob_url)
        res = {
            "warehouse": warehouse,
            "gamma": GammaClient(base_url=server.gamma_url),
            "clob": clob,
            "data_api": DataApiClient(base_url=server.data_url),
        }
        _ok(
            dg.materialize([events, markets_and_tokens, market_resolutions], resources=res),
            "the universe crawl",
        )
        trade_span = _trade_span(rec)
        if trade_span:
            for day in _days(trade_span[0], end):
                _ok(dg.materialize([trades], resources=res, partition_key=day), f"trades {day}")
        if "clob_prices_history" in rec.present():
            history_from = float(rec.manifest.get("history_from") or start)
            for day in _days(min(history_from, start), end):
                _ok(dg.materialize([price_history], resources=res, partition_key=day), f"price_points {day}")
        for t, tokens in _book_rounds(rec):
            server.set_clock(t)
            captured = datetime.fromtimestamp(round(t, 3), UTC)
            snapshot_books(clob, warehouse.connect, tokens, captured)
        server.set_clock(end)
        log.info("replay: websocket frames: %s", feed_frames(rec, url))
        # One run, in dependency order: wallet ages, then the insider signals and the market signals.
        signal_assets = [*INSIDER_ASSETS, arbitrage_windows, price_spikes]
        config = run_config(overrides, [a.op.name for a in signal_assets])
        config["ops"]["wallets"] = {"config": {"max_first_activity_lookups": 1_000_000}}
        _ok(
            dg.materialize([wallets, *signal_assets], resources=res, run_config=config),
            "wallets and the signals",
        )
        with psycopg.connect(url) as conn:
            return figures(conn, len(observed_market_days(rec)))


def figures(conn: psycopg.Connection, market_days: int) -> ReplayResult:
    n_trades = conn.execute("select count(*) from trades").fetchone()[0]  # type: ignore[index]
    n_markets = conn.execute("select count(*) from markets").fetchone()[0]  # type: ignore[index]
    result = ReplayResult(trades=n_trades, markets=n_markets, market_days=market_days)
    from pm_assets.signals.specs import SIGNALS

    for table in (s.table for s in SIGNALS):
        rows = conn.execute(
            sql.SQL("select suppressed_reason, count(*) from {} group by 1").format(sql.Identifier(table))
        ).fetchall()
        alerts = sum(n for reason, n in rows if reason is None)
        suppressed: dict[str, int] = {}
        for reason, n in rows:
            if reason is not None:
                code = reason_code(reason)
                suppressed[code] = suppressed.get(code, 0) + n
        result.signals[table] = {
            "alerts": alerts,
            "suppressed": dict(sorted(suppressed.items())),
            "alerts_per_1k_trades": round(alerts * 1000 / n_trades, 4) if n_trades else None,
            "alerts_per_market_day": round(alerts / market_days, 4) if market_days else None,
        }
    return result


def reason_code(reason: str) -> str:
    """A suppressed_reason's code: the text before its first ':' (`ghost_book: top ask ...` -> `ghost_book`)."""
    return reason.split(":", 1)[0].strip() or reason
