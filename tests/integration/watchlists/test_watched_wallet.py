"""watched_wallet on a real Postgres: a watched wallet's trade alerts with its evidence; unwatched wallets, sizes
under the list's, sweeps and repeats do not; escalations as for the insider signals; the same evaluation runs in
the insider job and the live pass (insider_signals.EVALUATORS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import insider_signals
from pm_assets.signals.insider_assets import watched_wallet_trades
from pm_assets.signals.watched_wallets import should_fire, verdict
from tests.support.insider import wallet_address

NOW = datetime.now(UTC).replace(microsecond=0)


def _watch(
    url: str, name: str, wallets: list[int], size: float | None = None, label: str | None = None
) -> None:
    with psycopg.connect(url) as conn:
        (wid,) = conn.execute(
            "insert into watchlists (name, min_position_usdc) values (%s, %s) returning watchlist_id",
            (name, size),
        ).fetchone()
        for n in wallets:
            conn.execute(
                "insert into watchlist_wallets (watchlist_id, wallet, label) values (%s, %s, %s)",
                (wid, wallet_address(n), label),
            )


def _materialize(url: str, **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [watched_wallet_trades],
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config={"ops": {"watched_wallet_trades": {"config": config}}} if config else None,
    )


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select wallet, alert_tier, round(usdc_size::numeric, 2)::float8, suppressed_reason, watchlists,"
            " evidence from watched_wallet_trades order by wallet, alert_tier"
        ).fetchall()


def test_any_trade_by_a_watched_wallet_alerts_once_with_its_evidence(rows, warehouse_url):
    rows.market(1)
    rows.wallet(1, NOW - timedelta(days=400))
    _watch(warehouse_url, "Whales", [1], size=0.0, label="the whale")
    rows.trade(1, 1, NOW - timedelta(minutes=30), 120.0, price=0.4)
    rows.trade(1, 1, NOW - timedelta(minutes=20), 80.0, price=0.4)  # same position: covered, no second alert
    rows.trade(2, 1, NOW - timedelta(minutes=20), 90_000.0)  # not watched
    assert _materialize(warehouse_url).success
    [(wallet, tier, usdc, reason, lists, evidence)] = _rows(warehouse_url)
    assert (wallet, tier, usdc, reason, lists) == (wallet_address(1), 0, 200.0, None, ["Whales"])
    assert evidence["summary"] == (
        "watched wallet 'the whale' (list Whales) bought the outcome at 0.40: $200 in 2 fills (the list alerts on any trade)"
    )
    assert should_fire(evidence) and evidence["inputs"]["min_position_usdc"] == 0.0
    assert _materialize(warehouse_url).success and len(_rows(warehouse_url)) == 1, (
        "a re-run writes nothing new"
    )


def test_a_lists_size_and_the_smallest_of_several_lists(rows, warehouse_url):
    rows.market(1)
    _watch(warehouse_url, "Big only", [1, 2], size=5_000.0)
    _watch(warehouse_url, "Wallet 2 any size", [2], size=None)  # the threshold's default: 0, any trade
    rows.trade(1, 1, NOW - timedelta(minutes=30), 4_000.0)
    rows.trade(2, 1, NOW - timedelta(minutes=30), 300.0)
    assert _materialize(warehouse_url).success
    assert [(r[0], r[2], r[4]) for r in _rows(warehouse_url)] == [
        (wallet_address(2), 300.0, ["Big only", "Wallet 2 any size"])
    ]
    rows.trade(1, 1, NOW - timedelta(minutes=10), 1_500.0)  # wallet 1's position reaches $5,500
    assert _materialize(warehouse_url).success
    crossed = [r for r in _rows(warehouse_url) if r[0] == wallet_address(1)]
    assert [(r[1], r[2], r[3]) for r in crossed] == [(0, 5_500.0, None)]
    assert "positions of at least $5,000" in crossed[0][5]["summary"]


def test_escalation_sweeps_and_a_saved_threshold(rows, warehouse_url):
    rows.market(1)
    rows.market(2)
    _watch(warehouse_url, "L", [1, 3])
    rows.trade(1, 1, NOW - timedelta(hours=5), 1_000.0)
    rows.trade(1, 1, NOW - timedelta(hours=4, minutes=50), 1_100.0)  # within the window: the same alert
    rows.trade(3, 2, NOW - timedelta(minutes=40), 20_000.0, price=0.97)  # a settlement sweep
    assert _materialize(warehouse_url).success
    # Past the accumulation window: not a new alert, but the position reaches 2x the first alert's $2,100.
    rows.trade(1, 1, NOW - timedelta(minutes=30), 3_000.0)
    assert _materialize(warehouse_url).success
    by = {(r[0], r[1]): r for r in _rows(warehouse_url)}
    assert by[(wallet_address(1), 0)][3] is None and by[(wallet_address(1), 1)][3] is None
    assert by[(wallet_address(1), 1)][2] == pytest.approx(5_100.0)
    assert by[(wallet_address(3), 0)][3] == "settlement_sweep"
    assert verdict(by[(wallet_address(3), 0)][5]) == "settlement_sweep"
    with pytest.raises(dg.Failure, match="watched_min_usdc must be at least 0.0, got -1.0"):
        _materialize(warehouse_url, watched_min_usdc=-1.0)


def test_evaluated_with_the_insider_signals_in_the_job_and_the_fast_lane():
    assert "watched_wallet_trades" in [name for name, _, _ in insider_signals.EVALUATORS]
    assert insider_signals.CONFIGURED["watched_wallet_trades"] == "watched_wallet"
    assert "signal:watched_wallet_trades" in insider_signals.CURSORS
    from pm_assets.definitions import defs

    job = defs.resolve_job_def("insider_signals_job")
    assert "watched_wallet_trades" in job.graph.node_names()
