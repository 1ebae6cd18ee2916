"""The insider signals together: sensor run keys and overrides, risk scores, and should_fire on every row."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import fresh_wallets, size_anomalies, wallet_clusters
from pm_assets.signals.insider_sensor import (
    ASSETS,
    LANE_FRESH_S,
    LANE_GRACE_S,
    LANE_PART,
    insider_signals_sensor,
)
from pm_assets.storage import heartbeats
from tests.signals_insider.conftest import T0, wallet_address

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


def test_sensor_launches_once_per_batch_and_the_run_applies_the_saved_overrides(rows, warehouse_url):
    resources = {"warehouse": WarehouseResource(database_url=warehouse_url)}
    with dg.build_sensor_context(resources=resources) as ctx:
        assert isinstance(insider_signals_sensor(ctx), dg.SkipReason)
    _world(rows)
    rows.conn.execute(
        "insert into threshold_overrides (signal_type, name, value) values (%s, %s, %s)",
        ("fresh_wallet", "fresh_min_usdc", Jsonb(2000)),
    )
    with dg.build_sensor_context(resources=resources) as ctx:
        request = insider_signals_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    result = dg.materialize(ASSETS, resources=resources, run_config=request.run_config)
    assert result.success
    used = rows.conn.execute(
        "select distinct (evidence->'thresholds'->>'fresh_min_usdc')::float from fresh_wallet_trades"
    ).fetchall()
    assert used == [(2000.0,)]
    with dg.build_sensor_context(resources=resources) as ctx:
        assert isinstance(insider_signals_sensor(ctx), dg.SkipReason)
    # A bad stored override (written around the dashboard) is refused at read time: the run logs it and uses the
    # default instead of failing, so one bad value never stops the signal.
    rows.conn.execute("update threshold_overrides set value = %s", (Jsonb(-1),))
    rows.trade(1, 1, T0 + timedelta(hours=1), 100)
    with dg.build_sensor_context(resources=resources) as ctx:
        request = insider_signals_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(ASSETS, resources=resources, run_config=request.run_config, instance=instance)
    assert result.success
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(
        "saved threshold override refused" in m and "fresh_min_usdc must be at least 0" in m for m in messages
    )


def test_sensor_leaves_new_trades_to_a_healthy_fast_lane_and_covers_what_it_leaves(rows, warehouse_url):
    resources = {"warehouse": WarehouseResource(database_url=warehouse_url)}
    _world(rows)

    def tick():
        with dg.build_sensor_context(resources=resources) as ctx:
            return insider_signals_sensor(ctx)

    def lane_beat(ok: bool, seconds_ago: float) -> None:
        heartbeats.beat(rows.conn, LANE_PART, {"ok": ok})
        rows.conn.execute(
            "update heartbeats set last_beat_at = now() - make_interval(secs => %s) where part = %s",
            (seconds_ago, LANE_PART),
        )

    assert dg.materialize(ASSETS, resources=resources).success  # every watermark exists
    late = rows.trade(1, 1, T0 + timedelta(hours=1), 100)  # ingested just now
    lane_beat(ok=True, seconds_ago=2)
    skip = tick()
    assert isinstance(skip, dg.SkipReason) and "fast lane" in skip.skip_message
    for ok, seconds_ago in ((False, 2), (True, LANE_FRESH_S + 5)):  # a failing or silent lane covers nothing
        lane_beat(ok, seconds_ago)
        assert isinstance(tick(), dg.RunRequest)
    # The lane is alive but has left a trade unevaluated past the grace (watermarks from before it arrived).
    rows.conn.execute(
        "update ingestion_cursors set complete_through = complete_through - interval '10 minutes' "
        "where name like 'signal:%'"
    )
    rows.conn.execute(
        "update trades set ingested_at = now() - make_interval(secs => %s) where fill_key = %s",
        (LANE_GRACE_S + 5, late),
    )
    lane_beat(ok=True, seconds_ago=2)
    assert isinstance(tick(), dg.RunRequest)


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


def test_the_fast_lanes_evaluators_are_the_jobs_assets_in_order():
    """The stream's fast lane runs EVALUATORS outside a run: the same assets, order and configs as the job."""
    from pm_assets.signals.insider_sensor import CONFIGURED, EVALUATORS

    assert [name for name, _, _ in EVALUATORS] == [asset.op.name for asset in ASSETS]
    assert {name for name, _, config in EVALUATORS if config is not None} == set(CONFIGURED)
