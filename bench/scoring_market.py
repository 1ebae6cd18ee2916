"""Score the market signals (arbitrage_windows, price_spikes) against pm_sim's planted ground truth.

`score_market_signals(conn, ground_truth)` is imported by bench/bench_signals.py. `ground_truth` is pm_sim's
document (`{"records": [...]}` from /admin/ground-truth or --ground-truth-path; a bare list works too).

Matching (alert rows only: suppressed_reason null):
- arbitrage: a row matches a planted `arbitrage_binary` window when its condition id is the window's market,
  or a planted `arbitrage_negrisk` window when its event id is the window's event, and [opened_at, closed_at]
  overlaps [start, end] widened by `slack_s` (books update at epochs, so edges snap to book times);
- spikes: a row matches a planted `price_spike` or `volume_spike` on the same market whose [start, end]
  overlaps [window_start, window_end] widened by `slack_s`.
precision = matched rows / rows; recall = matched planted events / planted events; alerts_per_event = matched
rows / matched events; noise_passed = planted noise records (ghost books, incomplete negRisk sets, disputed
markets) with an alert row on their market or event overlapping their time; start/end errors are medians of
|opened − start| and |closed − end| (spikes: window_start/window_end) over each event's first matched row.
Spikes also count their unmatched rows by kind and those coinciding with another plant; these explain precision,
they do not change it. A market converging to its winner over its last 6 h is a real move that pm_sim's ground truth
lists (`resolution_ramp`): a row inside one is a correct alert (it counts for precision, as `resolution_moves`), but
ramps are not recall targets, since not every convergence is steep enough to be a spike.

`python -m bench.scoring_market [--markets N] [--history-hours H] [--horizon-hours H] [--seed N | --seeds 1,2,3]`
builds a warehouse from a seeded pm_sim world
through `load_sim_world` (pm_sim's own pure book/trade functions; no ingestion), runs both signals and prints
the figures; `--seeds` prints one row per seed and signal and the mean over the seeds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

ARB_KINDS = {"arbitrage_binary", "arbitrage_negrisk"}
SPIKE_KINDS = {"price_spike", "volume_spike"}
NOISE_KINDS = {
    "ghost_book",
    "incomplete_negrisk_set",
    "disputed_market",
    "fee_eaten_arbitrage",
    "untradable_negrisk",
}


def _records(ground_truth: Mapping[str, Any] | list) -> list[dict[str, Any]]:
    return list(ground_truth.get("records", []) if isinstance(ground_truth, Mapping) else ground_truth)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _overlaps(a0: float, a1: float | None, b0: float, b1: float, slack: float) -> bool:
    return a0 <= b1 + slack and (a1 if a1 is not None else float("inf")) >= b0 - slack


def _figures(
    rows: list[dict], events: list[dict], noise: list[dict], match, noise_match, start_col: str, end_col: str
) -> dict[str, Any]:
    matched_rows = 0
    first: dict[int, dict] = {}
    for row in rows:
        hits = [i for i, ev in enumerate(events) if match(row, ev)]
        if hits:
            matched_rows += 1
        for i in hits:
            if i not in first or row[start_col] < first[i][start_col]:
                first[i] = row
    start_err = [abs(_ts(r[start_col]) - events[i]["start_ts"]) for i, r in first.items()]
    end_err = [abs(_ts(r[end_col]) - events[i]["end_ts"]) for i, r in first.items() if r[end_col] is not None]
    return {
        "precision": round(matched_rows / len(rows), 4) if rows else None,
        "recall": round(len(first) / len(events), 4) if events else None,
        "alerts_per_event": round(matched_rows / len(first), 3) if first else None,
        "noise_passed": sum(1 for n in noise if any(noise_match(r, n) for r in rows)),
        "start_error_s_p50": round(statistics.median(start_err), 1) if start_err else None,
        "end_error_s_p50": round(statistics.median(end_err), 1) if end_err else None,
        "rows": len(rows),
        "events": len(events),
        "noise_records": len(noise),
    }


def score_market_signals(
    conn: psycopg.Connection, ground_truth: Mapping[str, Any] | list, *, slack_s: float = 120.0
) -> dict[str, dict[str, Any]]:
    """Precision, recall, alerts per event, noise passed and timing errors of both market signals."""
    records = _records(ground_truth)
    noise = [r for r in records if r["kind"] in NOISE_KINDS]
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        arbs = cur.execute("select * from arbitrage_windows where suppressed_reason is null").fetchall()
        spikes = cur.execute("select * from price_spikes where suppressed_reason is null").fetchall()

    def arb_match(row, ev):
        same = (
            row["event_id"] == ev.get("event_id")
            if ev["kind"] == "arbitrage_negrisk"
            else row["condition_id"] == ev["condition_id"] and row["kind"].startswith("binary")
        )
        return same and _overlaps(
            _ts(row["opened_at"]), _ts(row["closed_at"]), ev["start_ts"], ev["end_ts"], slack_s
        )

    def arb_noise(row, n):
        ids = set(n.get("condition_ids") or [n.get("condition_id")])
        same = row["condition_id"] in ids or (
            n.get("event_id")
            and row["event_id"] == n["event_id"]
            and n["kind"] in ("incomplete_negrisk_set", "untradable_negrisk")
        )
        return bool(same) and _overlaps(
            _ts(row["opened_at"]), _ts(row["closed_at"]), n["start_ts"], n["end_ts"], slack_s
        )

    def spike_match(row, ev):
        return row["condition_id"] == ev["condition_id"] and _overlaps(
            _ts(row["window_start"]), _ts(row["window_end"]), ev["start_ts"], ev["end_ts"], slack_s
        )

    def spike_noise(row, n):
        return n["kind"] == "disputed_market" and spike_match(row, n)

    planted = [r for r in records if r["kind"] in ARB_KINDS]
    arb = _figures(arbs, planted, noise, arb_match, arb_noise, "opened_at", "closed_at")
    # pm_sim plants some windows whose edge the fees eat; finding none there is right, so recall is also given
    # over the windows that stay positive after fees.
    positive = [r for r in planted if r.get("edge_after_fees") is None or r["edge_after_fees"] > 0]
    found = sum(1 for ev in positive if any(arb_match(row, ev) for row in arbs))
    arb["recall_positive_after_fees"] = round(found / len(positive), 4) if positive else None
    arb["planted_positive_after_fees"] = len(positive)
    planted_spikes = [r for r in records if r["kind"] in SPIKE_KINDS]
    spk = _figures(spikes, planted_spikes, noise, spike_match, spike_noise, "window_start", "window_end")
    spk["unmatched"] = sum(1 for row in spikes if not any(spike_match(row, ev) for ev in planted_spikes))
    # Other plants (insider buys, coordinated entries, split buys, sweeps) move volume too: unmatched spike rows
    # that coincide with one are counted apart, so precision can be read against them.
    others = [r for r in records if r["kind"] not in SPIKE_KINDS | NOISE_KINDS and r.get("condition_id")]
    spk["unmatched_explained_by_other_plants"] = sum(
        1
        for row in spikes
        if not any(spike_match(row, ev) for ev in planted_spikes)
        and any(spike_match(row, ev) for ev in others)
    )
    # A market's convergence to its winner (pm_sim README, "Ground truth": resolution_ramp) is a real move: rows
    # inside one are right, though ramps are no recall target (not every convergence is steep enough to spike).
    ramps = [r for r in records if r["kind"] == "resolution_ramp"]
    in_ramp = [
        row
        for row in spikes
        if not any(spike_match(row, ev) for ev in planted_spikes)
        and any(spike_match(row, ev) for ev in ramps)
    ]
    spk["resolution_moves"] = len(in_ramp)
    if spikes:
        spk["precision"] = round((spk["rows"] - spk["unmatched"] + len(in_ramp)) / len(spikes), 4)
    unmatched = [row for row in spikes if not any(spike_match(row, ev) for ev in planted_spikes + ramps)]
    for kind in ("price_move", "volume_z"):
        spk[f"unmatched_{kind}"] = sum(1 for row in unmatched if row["kind"] == kind)
    # What each table sends on unplanted flow: rows matching no planted event, per 1,000 background trades.
    from bench.scoring_insider import background_trades, per_1k

    background = background_trades(conn, records)
    arb_background = sum(1 for row in arbs if not any(arb_match(row, ev) for ev in planted))
    for figures, n in ((arb, arb_background), (spk, len(unmatched))):
        figures["alerts_per_1k_background_trades"] = per_1k(n, background)
        figures["background_alerts"] = n
        figures["background_trades"] = background
    return {"arbitrage_windows": arb, "price_spikes": spk}


# --- a warehouse from a pm_sim world (pm_sim's pure functions, no ingestion) ------------------------------------


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _levels(side: list, tick: float) -> Jsonb:
    return Jsonb([{"price": f"{p * tick:.4f}", "size": str(s)} for p, s in side])


def load_sim_world(conn: psycopg.Connection, sim: Any, *, max_books: int = 400_000) -> dict[str, int]:
    """Markets, events, tokens, resolutions, trades and per-epoch websocket books of `sim` over its whole
    history and horizon, written as the ingestion and stream would have stored them."""
    from pm_sim.books import epoch, ladders, token_update_time

    w = sim.world
    t0, t1 = w.history_start, w.horizon_end
    for ev in w.events:
        conn.execute(
            "insert into events (event_id, title, neg_risk, neg_risk_market_id, neg_risk_augmented)"
            " values (%s,%s,%s,%s,%s)",
            (ev.id, ev.title, ev.neg_risk, ev.neg_risk_market_id, ev.augmented),
        )
    for m in w.markets:
        closed = m.close_time <= t1
        conn.execute(
            "insert into markets (condition_id, market_id, event_id, question, neg_risk, neg_risk_market_id,"
            " neg_risk_other, accepting_orders, closed, closed_time, end_date, tick_size, fees_enabled, fee_schedule,"
            " volume_24h, liquidity) values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (
                m.condition_id,
                m.id,
                w.events[m.event_idx].id,
                m.question,
                m.neg_risk,
                m.neg_risk_market_id,
                m.neg_risk_other,
                not closed,
                closed,
                _dt(m.close_time) if closed else None,
                _dt(m.end_date),
                m.tick,
                m.fee_schedule is not None,
                Jsonb(m.fee_schedule) if m.fee_schedule else None,
                1000 * m.weight,
                500 * m.weight,
            ),
        )
        for k, tid in enumerate(m.token_ids):
            conn.execute(
                "insert into tokens (token_id, condition_id, outcome, outcome_index, version, has_book)"
                " values (%s,%s,%s,%s,%s,%s)",
                (tid, m.condition_id, m.outcomes[k], k, m.version or "v1", m.has_book),
            )
        if closed:
            # As pm_sim's /v2/resolutions reports it at the end of the loaded range (pm_sim.data_more.resolution):
            # a market in dispute is "active" until it closes, so a dispute only shows from its close on.
            lag = (
                7200
                if m.dispute in ("disputed", "arbitrated")
                else (86400 if m.dispute == "extended_review" else 0)
            )
            status = "resolved" if t1 >= m.close_time + lag else ("disputed" if m.dispute else "proposed")
            conn.execute(
                "insert into market_resolutions (condition_id, status, winning_token_id, was_disputed, was_arbitrated,"
                " extended_review, resolved_at, source) values (%s,%s,%s,%s,%s,%s,%s,'pm_sim')",
                (
                    m.condition_id,
                    status,
                    m.token_ids[m.winner] if status == "resolved" else None,
                    m.dispute in ("disputed", "arbitrated"),
                    m.dispute == "arbitrated",
                    m.dispute == "extended_review",
                    _dt(m.close_time + lag) if status == "resolved" else None,
                ),
            )
    trades = 0
    with conn.cursor().copy(
        "copy trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet,"
        " side, price, size, source) from stdin"
    ) as copy:
        for r in sim.flow.iter_rows(int(t1 * 1000), int(t0 * 1000)):
            m = w.markets[r[1]]
            copy.write_row(
                (
                    _dt(r[0] / 1000),
                    f"{r[0]}-{r[1]}-{r[2]}",
                    f"0x{r[8]:x}",
                    m.token_ids[r[5]],
                    m.condition_id,
                    w.wallet_address(r[3]),
                    "BUY" if r[4] == 0 else "SELL",
                    r[7],
                    r[6],
                    "pm_sim",
                )
            )
            trades += 1
    books = 0
    with conn.cursor().copy(
        "copy ws_book_snapshots (server_ts, token_id, book_hash, condition_id, received_at,"
        " bids, asks) from stdin"
    ) as copy:
        for m in w.markets:
            if not m.has_book:
                continue
            lo, hi = max(t0, m.created_at), min(t1, m.close_time)
            for e in range(epoch(m, lo), epoch(m, hi) + 1):
                for k, tid in enumerate(m.token_ids):
                    # The second token shows each update later (pm_sim.books.token_epoch), as the stream delivers.
                    at = max(token_update_time(m, k, e), lo)
                    if at >= hi:
                        continue
                    tick, bids, asks = ladders(w, m, k, e)
                    copy.write_row(
                        (
                            _dt(at),
                            tid,
                            f"{e}",
                            m.condition_id,
                            _dt(at),
                            _levels(bids, tick),
                            _levels(asks, tick),
                        )
                    )
                    books += 1
                if books > max_books:
                    raise RuntimeError(
                        f"more than {max_books} book snapshots: lower ws_rate or the time span"
                    )
    return {"trades": trades, "books": books, "markets": len(w.markets)}


# Its own name per concurrent run (several seeds at once on one server): PM_INTEL_BENCH_MARKET_DB.
BENCH_DB = os.environ.get("PM_INTEL_BENCH_MARKET_DB", "pm_intel_bench_market")


def bench_database() -> str:
    """A fresh migrated database of this bench's own beside DATABASE_URL's (or on the embedded server)."""
    import os
    from pathlib import Path

    from psycopg import sql

    from pm_assets.storage import migrate, postgres_server
    from pm_assets.storage.urls import libpq_url, with_database

    base = os.environ.get("DATABASE_URL") or postgres_server.start(
        Path(__file__).resolve().parents[1] / ".pm-intel" / "pg"
    )
    with psycopg.connect(libpq_url(with_database(base, "postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(BENCH_DB)))
    url = libpq_url(with_database(base, BENCH_DB))
    migrate.upgrade(url)
    return url


def run_seed(seed: int, args: argparse.Namespace, *, verbose: bool = True) -> dict[str, dict[str, Any]]:
    """Build seed's world into a fresh bench database, run both signals at default thresholds, score them."""
    from pm_assets.signals.arbitrage import ArbitrageThresholds
    from pm_assets.signals.market_runs import materialize_arbitrage, materialize_spikes
    from pm_assets.signals.spikes import SpikeThresholds
    from pm_sim.config import SimConfig
    from pm_sim.sim import Sim

    sim = Sim(
        SimConfig(
            seed=seed,
            markets=args.markets,
            history_hours=args.history_hours,
            horizon_hours=args.horizon_hours,
            ws_rate=args.ws_rate,
            speed=0.0,
            rate_limits=False,
        )
    )
    url = bench_database()
    with psycopg.connect(url) as conn:
        t = time.perf_counter()
        loaded = load_sim_world(conn, sim)
        conn.commit()
        steps = [f"loaded {loaded} in {time.perf_counter() - t:.1f} s"]
        t = time.perf_counter()
        arb = materialize_arbitrage(conn, ArbitrageThresholds())
        steps.append(f"arbitrage_windows: {arb} in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        spk = materialize_spikes(conn, SpikeThresholds())
        steps.append(f"price_spikes: {spk} in {time.perf_counter() - t:.1f} s")
        conn.commit()
        figures = score_market_signals(conn, {"records": sim.truth})
    if verbose:
        print("\n".join(steps))
    return figures


ROW_FIGURES = (
    ("precision", "precision"),
    ("recall", "recall"),
    ("per_event", "alerts_per_event"),
    ("noise", "noise_passed"),
    ("rows", "rows"),
    ("events", "events"),
    ("odd_moves", "unmatched_price_move"),
    ("odd_volume", "unmatched_volume_z"),
    ("in_ramp", "resolution_moves"),
)


def seeds_table(results: Mapping[int, Mapping[str, Mapping[str, Any]]]) -> list[str]:
    """One line per seed and signal, then each signal's mean over the seeds (None figures left out).

    odd_moves / odd_volume: price_move / volume_z rows matching neither a planted spike nor a resolution ramp;
    in_ramp: rows inside a listed resolution ramp (correct alerts; price_spikes only)."""
    lines = [f"{'seed':>6} {'signal':<18} " + " ".join(f"{h:>10}" for h, _ in ROW_FIGURES)]
    for signal in ("arbitrage_windows", "price_spikes"):
        for seed, figures in results.items():
            lines.append(
                f"{seed:>6} {signal:<18} "
                + " ".join(f"{figures[signal].get(k)!s:>10}" for _, k in ROW_FIGURES)
            )
        means = []
        for _, k in ROW_FIGURES:
            vals = [
                figures[signal].get(k) for figures in results.values() if figures[signal].get(k) is not None
            ]
            means.append(f"{round(statistics.fmean(vals), 4) if vals else None!s:>10}")
        lines.append(f"{'mean':>6} {signal:<18} " + " ".join(means))
    return lines


def main(argv: Iterable[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring_market")
    parser.add_argument("--markets", type=int, default=60)
    parser.add_argument("--history-hours", type=float, default=2.0)
    parser.add_argument("--horizon-hours", type=float, default=6.0)
    parser.add_argument("--ws-rate", type=float, default=2.0, help="world book updates per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--seeds",
        type=str,
        default=None,
        help="comma-separated seeds (e.g. 1,2,3): one row per seed and the mean",
    )
    args = parser.parse_args(list(argv))
    if args.seeds:
        seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
        results = {}
        for seed in seeds:
            results[seed] = run_seed(seed, args, verbose=False)
            print(f"seed {seed} done", flush=True)
        print("\n".join(seeds_table(results)))
        return 0
    for signal, values in run_seed(args.seed, args).items():
        print(signal, values)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
