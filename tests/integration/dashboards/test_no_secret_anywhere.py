"""Planted secrets (a database password, a Slack webhook URL) appear nowhere a person or a log reads.

A representative run: alert delivery ticks that fail, the live driver on a warehouse that is gone, a system alert that cannot be sent, a
database write the server refuses (through the warehouse engine and through the dashboard's save), an
asset materialized with its run metadata, and the dashboard pages in production mode (details off). Every
log record, every line printed, every Dagster event and every text on the pages is searched.
"""

from __future__ import annotations

import logging
import threading

import dagster as dg
import psycopg
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboards.failures import failure_line
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.urls import with_login
from pm_assets.warehouse.assets import warehouse_partitions
from pm_sensors.alerts.delivery import AlertDeliverer
from pm_sensors.alerts.delivery_resource import AlertDeliveryResource
from pm_sensors.alerts.direct_sends import send_system_alert
from pm_sensors.live.driver import LiveDriver
from tests.support.alerts import add_fresh_wallet, add_rule
from tests.support.apptest import APP, texts, widget
from tests.support.fake_network import FakeNetwork

DB_PASSWORD = "Pl4nted-DB-pw-7f3a"
SLACK_TOKEN = "PlantedSlackToken9c1e"
SLACK_URL = f"https://hooks.slack.com/services/T0PLANT/B0PLANT/{SLACK_TOKEN}"
SECRETS = (DB_PASSWORD, SLACK_TOKEN, "T0PLANT/B0PLANT")


def leaks(*texts_: object) -> list[str]:
    found = []
    for text in texts_:
        for secret in SECRETS:
            if secret in str(text):
                found.append(f"{secret!r} in {str(text)[:300]!r}")
    return found


@pytest.fixture
def planted(world, monkeypatch):
    """The warehouse reached through a URL carrying a password (trust auth ignores it, every URL shows it)."""
    url = with_login(world.url, "postgres", DB_PASSWORD).render_as_string(hide_password=False)
    for name in ("PM_INTEL_DASHBOARD_DEBUG", "PM_INTEL_ALLOW_PRIVATE_WEBHOOKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    FakeNetwork({"hooks.slack.com": ["93.184.216.34"]}).install(monkeypatch)
    with psycopg.connect(world.url, autocommit=True) as conn:
        # A rule the server refuses to store: stands for any write the database rejects.
        conn.execute("alter table alert_rules add constraint test_refuses_boom check (name <> 'boom')")
        add_rule(conn, "planted slack", SLACK_URL, kind="slack")
        add_fresh_wallet(conn, 1)
    return url


def test_no_planted_secret_in_logs_metadata_errors_or_pages(planted, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    seen: list[object] = []

    with dg.instance_for_test() as instance:
        resources = {
            "warehouse": WarehouseResource(database_url=planted),
            "alert_delivery": AlertDeliveryResource(allow_private_webhooks=False, max_attempts=1),
        }
        delivery = resources["alert_delivery"].settings()
        deliverer = AlertDeliverer(lambda: psycopg.connect(planted, autocommit=True), delivery)
        cursor = None
        for _ in range(2):  # the delivery fails (nothing answers), is recorded failed, the next pass idles
            report = deliverer.tick(cursor)
            cursor = report.cursor
            seen.append(report.summary())
        # The live driver on a warehouse that is gone: its failed passes and heartbeats are logged (caplog).
        nowhere = "http://127.0.0.1:9"
        driver = LiveDriver(
            WarehouseResource(database_url=planted + "_gone"),
            DataApiClient(base_url=nowhere, max_attempts=1),
            ClobClient(base_url=nowhere),
            delivery,
            poll_interval_s=0.1,
            tasks=(),
        )
        driver.run(threading.Event(), max_runtime_s=1.0)
        assert driver.failures >= 1

        result = dg.materialize(
            [warehouse_partitions],
            instance=instance,
            resources={"warehouse": WarehouseResource(database_url=planted)},
        )
        assert result.success
        for record in instance.get_event_records(
            dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION)
        ):
            seen.extend(str(v.value) for v in record.asset_materialization.metadata.values())
        seen.extend(entry.message for entry in instance.all_logs(result.run_id))
        seen.extend(str(entry.dagster_event) for entry in instance.all_logs(result.run_id))

    seen.extend(
        r.text + " " + r.detail
        for r in send_system_alert("deadman", "x", env={"PM_INTEL_SYSTEM_WEBHOOK_URL": SLACK_URL})
    )

    engine = WarehouseResource(database_url=planted).engine()
    with pytest.raises(sa.exc.IntegrityError) as refused, engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into alert_rules (name, signal_type, destination_kind, webhook_url) values (:n, 'x', 'json', :u)"
            ),
            {"n": "boom", "u": SLACK_URL},
        )
    # The bound values are hidden; the server's own DETAIL ("Failing row contains ...") stays in the raw
    # exception, so what a person reads is its first line, masked (dashboards.failures).
    assert "hide_parameters=True" in str(refused.value)
    seen.append(failure_line(refused.value))

    with psycopg.connect(planted) as conn:
        seen.extend(r[0] for r in conn.execute("select last_error from alert_deliveries").fetchall())
        planted_status = conn.execute(
            "select d.status from alert_deliveries d join alert_rules r using (rule_id) where r.name = 'planted slack'"
        ).fetchall()
        assert planted_status == [("failed",)]

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/alerts.py")
    at.run()
    widget(at, "text_input", "Name").input("boom")
    widget(at, "text_input", "Webhook URL").input(SLACK_URL)
    next(b for b in at.button if b.label == "Save rule").click().run()
    assert any(e.value.startswith("Saving the rule failed: IntegrityError") for e in at.error), texts(at)
    seen += [texts(at), *(e.value for e in at.exception)]
    for page in ("overview", "signals", "pipeline", "status"):
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        seen += [texts(at), *(e.value for e in at.exception)]

    printed = capsys.readouterr()
    seen += [r.getMessage() for r in caplog.records] + [printed.out, printed.err]
    seen += [r.exc_text for r in caplog.records if r.exc_text]
    assert leaks(*seen) == []
    assert len(seen) > 20  # the run produced what it was meant to search
