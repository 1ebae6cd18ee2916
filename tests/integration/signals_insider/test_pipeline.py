"""The insider signals together: the live pass's saved thresholds and watermarks, risk scores, should_fire on
every row."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import fresh_wallets, size_anomalies, wallet_clusters
from pm_assets.signals.insider_assets import ASSETS
from pm_assets.signals.insider_signals import watermarks_behind
from pm_sensors.live.live_pass import LivePassSettings, LiveReport, evaluate_insider_signals
from tests.support.insider import T0, wallet_address

SHOULD_FIRE = {
    "fresh_wallet_trades": fresh_wallets.verdict,
    "size_anomalies": size_anomalies.verdict,
    "wallet_clusters": wallet_clusters.verdict,
}


def assert_every_row_recomputes(url: str) -> int:
    """Each row's evidence alone gives its suppressed_reason (None = should fire) and says the rule held."""
    checked = 0
    with psycopg.connect(url) as conn:
        for table, verdict in SHOULD_FIRE.items():
            for key, reason, evidence in conn.execute(
                f"select signal_key, suppressed_reason, evidence from {table}"
            ):  # noqa: S608
                assert verdict(evidence) == reason, (table, key, evidence)
                assert evidence["summary"]
                checked += 1
    return checked


def _world(rows):
    rows.market(1, liquidity=3_000, volume_24h=20_000)
    for w in (1, 2, 3):
        rows.wallet(w, T0 - timedelta(hours=2 + w))
    rows.wallet(8, T0 - timedelta(days=200))
    for w in (1, 2, 3):
        rows.trade(w, 1, T0 + timedelta(minutes=3 * w), 3_000, price=0.2)
    rows.trade(8, 1, T0, 15_000, price=0.97)


class Lines:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)

    debug = warning = info


def test_the_live_pass_uses_the_saved_thresholds_and_a_bad_one_never_stops_it(rows, warehouse_url):
    warehouse = WarehouseResource(database_url=warehouse_url)
    _world(rows)
    rows.conn.execute(
        "insert into threshold_overrides (signal_type, name, value) values (%s, %s, %s)",
        ("fresh_wallet", "fresh_min_usdc", Jsonb(2000)),
    )
    assert watermarks_behind(rows.conn)[1]  # never evaluated: every signal is behind
    report = LiveReport()
    evaluate_insider_signals(warehouse, LivePassSettings(), report, Lines())
    assert not report.skipped_signals and report.assets["fresh_wallet_trades"]["rows_written"] == 3
    assert watermarks_behind(rows.conn)[1] == []
    used = rows.conn.execute(
        "select distinct (evidence->'thresholds'->>'fresh_min_usdc')::float from fresh_wallet_trades"
    ).fetchall()
    assert used == [(2000.0,)]
    # The live pass's evaluation saves nothing: the override store is what the dashboard wrote.
    assert rows.conn.execute("select count(*) from threshold_overrides").fetchone()[0] == 1

    # A bad stored override (written around the dashboard) is refused at read time, logged, and the default used.
    rows.conn.execute("update threshold_overrides set value = %s", (Jsonb(-1),))
    rows.trade(1, 1, T0 + timedelta(hours=1), 100)
    log, report = Lines(), LiveReport()
    evaluate_insider_signals(warehouse, LivePassSettings(), report, log)
    assert not report.skipped_signals and set(report.assets) == {a.op.name for a in ASSETS}
    assert any(
        "saved threshold override refused" in m and "fresh_min_usdc must be at least 0" in m
        for m in log.lines
    )


def test_all_signals_and_risk_scores_on_one_world(rows, warehouse_url):
    _world(rows)
    resources = {"warehouse": WarehouseResource(database_url=warehouse_url)}
    for _ in range(2):
        assert dg.materialize(ASSETS, resources=resources).success
    with psycopg.connect(warehouse_url) as conn:
        fresh = conn.execute(
            "select wallet, suppressed_reason from fresh_wallet_trades order by 1"
        ).fetchall()
        sizes = conn.execute("select wallet, suppressed_reason from size_anomalies order by 1").fetchall()
        clusters = conn.execute("select wallet_count, suppressed_reason from wallet_clusters").fetchall()
        risk = conn.execute(
            "select wallet, score, reason from trade_risk_scores order by score desc"
        ).fetchall()
        wallets = conn.execute("select wallet, alert_count from wallet_risk_scores order by 1").fetchall()
    assert fresh == [(wallet_address(w), None) for w in (1, 2, 3)]
    assert (wallet_address(8), "settlement_sweep") in sizes
    assert clusters == [(3, None)]
    assert risk[0][2].startswith("fresh wallet + ") and "entered with 2 other fresh wallets" in risk[0][2]
    assert "niche market" in risk[0][2] and risk[0][1] > 50
    assert [w for w, _ in wallets] == sorted(wallet_address(w) for w in (1, 2, 3, 8))
    assert assert_every_row_recomputes(warehouse_url) >= 7


def test_the_live_pass_evaluators_are_the_jobs_assets_in_order():
    """The live pass runs EVALUATORS outside a run: the same assets, order and configs as the job."""
    from pm_assets.signals.insider_signals import CONFIGURED, EVALUATORS

    assert [name for name, _, _ in EVALUATORS] == [asset.op.name for asset in ASSETS]
    assert {name for name, _, config in EVALUATORS if config is not None} == set(CONFIGURED)
