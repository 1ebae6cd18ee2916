"""Thresholds set in the Launchpad: the lasting value (the dashboard's override store) or a marked what-if run
beside the live table; never a deleted or rewritten alert; one-line refusals; defaults resolved at run start."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from dashboards.threshold_form import catalogue_frame
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.insider_assets import ASSETS, fresh_wallet_trades, size_anomalies, wallet_clusters
from tests.support.insider import T0, wallet_address

RESCAN = {"rescan_from": "2026-11-20", "rescan_to": "2026-11-21"}


def _world(rows):
    rows.market(1, liquidity=3_000, volume_24h=20_000)
    for w in (1, 2, 3):
        rows.wallet(w, T0 - timedelta(hours=2 + w))
    for w in (1, 2, 3):
        rows.trade(w, 1, T0 + timedelta(minutes=3 * w), 3_000, price=0.2)


def _launch(url, asset, config=None, instance=None):
    return dg.materialize(
        [asset],
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config={"ops": {asset.op.name: {"config": config}}} if config else None,
        instance=instance,
    )


def _alerts(conn, table):
    return conn.execute(
        f"select signal_key, evidence, updated_at from {table} where suppressed_reason is null order by 1"  # noqa: S608
    ).fetchall()


def _overrides(conn):
    return conn.execute(
        "select signal_type, name, value, updated_at, updated_by from threshold_overrides order by 1, 2"
    ).fetchall()


def test_a_launchpad_threshold_is_the_lasting_value_and_alerted_rows_remain(rows, warehouse_url):
    _world(rows)
    assert dg.materialize(
        ASSETS, resources={"warehouse": WarehouseResource(database_url=warehouse_url)}
    ).success
    # Typing the value already in force changes nothing lasting.
    assert _launch(warehouse_url, fresh_wallet_trades, {"fresh_min_usdc": 2500.0}).success
    assert _overrides(rows.conn) == []
    fresh_before = _alerts(rows.conn, "fresh_wallet_trades")
    clusters_before = _alerts(rows.conn, "wallet_clusters")
    assert len(fresh_before) == 3 and len(clusters_before) == 1

    # The issue's launch: incremental (nothing new to read) and then a rescan of the alerts' day.
    assert _launch(warehouse_url, fresh_wallet_trades, {"fresh_min_usdc": 1_000_000}).success
    assert _launch(warehouse_url, fresh_wallet_trades, {"fresh_min_usdc": 1_000_000, **RESCAN}).success
    assert _launch(warehouse_url, wallet_clusters, {"cluster_min_wallets": 50, **RESCAN}).success
    assert _alerts(rows.conn, "fresh_wallet_trades") == fresh_before
    assert _alerts(rows.conn, "wallet_clusters") == clusters_before

    # Saved where the dashboard edits thresholds, and shown there.
    saved = {(s, n): (v, by) for s, n, v, _, by in _overrides(rows.conn)}
    assert saved == {
        ("fresh_wallet", "fresh_min_usdc"): (1_000_000, "launchpad"),
        ("wallet_cluster", "cluster_min_wallets"): (50, "launchpad"),
    }
    frame = pd.DataFrame(
        _overrides(rows.conn), columns=["signal_type", "name", "value", "updated_at", "updated_by"]
    )
    shown = catalogue_frame(frame).set_index(["signal", "threshold"])
    assert shown.loc[("fresh_wallet", "fresh_min_usdc"), "override"] == 1_000_000
    assert shown.loc[("fresh_wallet", "fresh_min_usdc"), "saved by"] == "launchpad"

    # Every later run (the live pass, scheduled runs: no values in their config) evaluates under the lasting value: a new
    # $5,000 position by a fresh wallet fired under the default $2,500 and does not under $1,000,000.
    rows.wallet(4, T0 - timedelta(hours=1))
    rows.trade(4, 1, T0 + timedelta(minutes=30), 5_000, price=0.2)
    assert _launch(warehouse_url, fresh_wallet_trades).success
    new = rows.conn.execute(
        "select count(*) from fresh_wallet_trades where wallet = %s", (wallet_address(4),)
    ).fetchone()[0]
    assert new == 0
    assert _alerts(rows.conn, "fresh_wallet_trades") == fresh_before


def test_a_what_if_run_writes_beside_the_live_table_and_changes_nothing_lasting(rows, warehouse_url):
    _world(rows)
    assert dg.materialize(
        ASSETS, resources={"warehouse": WarehouseResource(database_url=warehouse_url)}
    ).success
    live = rows.conn.execute("select * from fresh_wallet_trades order by signal_key").fetchall()
    marks = rows.conn.execute("select name, complete_through from ingestion_cursors order by 1").fetchall()

    result = _launch(warehouse_url, fresh_wallet_trades, {"fresh_min_usdc": 6_000, "what_if": True, **RESCAN})
    assert result.success
    meta = result.asset_materializations_for_node("fresh_wallet_trades")[0].metadata
    what_if_id = meta["what_if_id"].value
    assert rows.conn.execute("select * from fresh_wallet_trades order by signal_key").fetchall() == live
    assert (
        rows.conn.execute("select name, complete_through from ingestion_cursors order by 1").fetchall()
        == marks
    )
    assert _overrides(rows.conn) == []
    stored = rows.conn.execute(
        "select signal_type, suppressed_reason, thresholds->>'fresh_min_usdc', row->>'wallet'"
        " from signal_what_if where what_if_id = %s order by 4",
        (what_if_id,),
    ).fetchall()
    # Under $6,000 no single $3,000 position fires: each re-evaluated position is a 'not_fired' row or none.
    assert all(s[0] == "fresh_wallet" and s[2] == "6000.0" and s[1] is not None for s in stored)

    result = _launch(warehouse_url, wallet_clusters, {"cluster_min_wallets": 2, "what_if": True, **RESCAN})
    [(wallets, reason)] = rows.conn.execute(
        "select (row->>'wallet_count')::int, suppressed_reason from signal_what_if where signal_type = 'wallet_cluster'"
    ).fetchall()
    assert (wallets, reason) == (3, None)
    assert _overrides(rows.conn) == []


@pytest.mark.parametrize(
    ("config", "line"),
    [
        (
            {"fresh_min_usdc": -5},
            "invalid threshold: fresh_wallet.fresh_min_usdc must be at least 0.0, got -5.0",
        ),
        (
            {"fresh_min_usdc": 1e20},
            "invalid threshold: fresh_wallet.fresh_min_usdc must be at most 1000000000.0, got 1e+20",
        ),
        ({"fresh_max_age_hours": float("inf")}, "invalid threshold: fresh_wallet.fresh_max_age_hours"),
    ],
)
def test_a_refused_launchpad_value_is_one_line(warehouse_url, config, line):
    with pytest.raises(dg.Failure) as refused:
        _launch(warehouse_url, fresh_wallet_trades, config)
    assert refused.value.description.startswith(line) and "\n" not in refused.value.description
    result = dg.materialize(
        [fresh_wallet_trades],
        resources={"warehouse": WarehouseResource(database_url=warehouse_url)},
        run_config={"ops": {"fresh_wallet_trades": {"config": config}}},
        raise_on_error=False,
    )
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.event_specific_data.error.message.strip().count("\n") == 0


def test_a_bad_environment_default_loads_the_code_and_refuses_only_the_run_that_uses_it(
    rows, warehouse_url, monkeypatch
):
    bad = {"PM_INTEL_FRESH_MIN_USDC": "lots", "PM_INTEL_BOOK_MAX_AGE_MINUTES": "1e20"}
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import dagster as dg; from pm_assets.definitions import defs;"
            " dg.Definitions.validate_loadable(defs); print('loaded')",
        ],
        env={**os.environ, **bad},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert loaded.returncode == 0 and "loaded" in loaded.stdout, loaded.stderr[-2000:]
    for name, value in bad.items():
        monkeypatch.setenv(name, value)
    _world(rows)
    with pytest.raises(dg.Failure) as refused:
        _launch(warehouse_url, fresh_wallet_trades)
    assert refused.value.description == (
        "invalid threshold: environment PM_INTEL_FRESH_MIN_USDC: fresh_wallet.fresh_min_usdc must be a float,"
        " got 'lots'"
    )
    with pytest.raises(
        dg.Failure, match="PM_INTEL_BOOK_MAX_AGE_MINUTES: size_anomaly.book_max_age_minutes must"
    ):
        _launch(warehouse_url, size_anomalies)
    assert _launch(warehouse_url, wallet_clusters).success  # uses neither


def test_a_bad_stored_override_is_refused_at_read_and_the_default_used(rows, warehouse_url):
    _world(rows)
    rows.conn.execute(
        "insert into threshold_overrides (signal_type, name, value) values"
        " ('size_anomaly', 'book_max_age_minutes', '1e20'), ('size_anomaly', 'size_min_usdc', '2000')"
    )
    instance = dg.DagsterInstance.ephemeral()
    result = _launch(warehouse_url, size_anomalies, instance=instance)
    assert result.success  # no OverflowError: the bad value never reaches the rule
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(
        "saved threshold override refused" in m
        and "book_max_age_minutes must be at most 10080, got 100000000000000000000" in m
        for m in messages
    )
    used = rows.conn.execute(
        "select distinct (evidence->'thresholds'->>'book_max_age_minutes')::int,"
        " (evidence->'thresholds'->>'size_min_usdc')::float from size_anomalies"
    ).fetchall()
    assert used == [(60, 2000.0)]
