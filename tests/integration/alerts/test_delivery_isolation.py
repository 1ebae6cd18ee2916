"""One delivery's failure never costs another: a URL httpx refuses, any exception, a crash mid-batch."""

from __future__ import annotations

import httpx
import psycopg

from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings
from pm_sensors.alerts.direct_sends import send_system_alert
from tests.support.alerts import add_fresh_wallet, add_rule, deliveries

SECRET = "T0/B0/sekrit"


def test_urls_httpx_refuses_fail_their_own_delivery_and_the_rest_go_out(db, receiver, make_deliverer):
    # Stored straight into the table (an older validator, a hand edit): the form would refuse both now.
    control = add_rule(db, "control char", f"{receiver.base_url}/{SECRET}\x01", kind="json")
    good = add_rule(db, "good", receiver.url(f"/{SECRET}"), kind="json")
    huge = add_rule(db, "huge host", "http://" + "a" * 70_000 + f"/{SECRET}", kind="json")
    add_fresh_wallet(db, 1)

    report = make_deliverer().tick(None)

    by_rule = {row["rule_id"]: row for row in deliveries(db)}
    assert by_rule[good]["status"] == "delivered" and len(receiver.delivered()) == 1
    for rule in (control, huge):
        row = by_rule[rule]
        assert row["status"] == "failed"
        assert "sekrit" not in row["last_error"] and len(row["last_error"]) < 500
    assert report.delivered == 1 and report.failed == 2


class ProcessStopped(BaseException):
    """Stands for the process being killed in the middle of a batch."""


def test_a_posted_delivery_is_recorded_however_the_batch_ends_so_a_crash_never_reposts_it(db, warehouse_url):
    posted: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request.url.path)
        if len(posted) == 2:
            raise ProcessStopped
        return httpx.Response(200)

    first = add_rule(db, "first", "http://127.0.0.1:9/first", kind="json")
    second = add_rule(db, "second", "http://127.0.0.1:9/second", kind="json")
    add_fresh_wallet(db, 1)

    def deliverer() -> AlertDeliverer:
        return AlertDeliverer(
            lambda: psycopg.connect(warehouse_url, autocommit=True),
            DeliverySettings(allow_private=True, lease_s=0),  # a lease that has already expired
            client=httpx.Client(transport=httpx.MockTransport(handler)),
            sleep=lambda s: None,
        )

    try:
        deliverer().tick(None)
    except ProcessStopped:
        pass
    by_rule = {row["rule_id"]: row for row in deliveries(db)}
    assert by_rule[first]["status"] == "delivered"

    deliverer().tick(None)  # the next tick, after the lease expired: only the unfinished row goes out
    assert posted == ["/first", "/second", "/second"]
    assert {row["status"] for row in deliveries(db)} == {"delivered"}
    assert second in {row["rule_id"] for row in deliveries(db)}


def test_a_system_alert_to_a_url_httpx_refuses_does_not_stop_the_others(db, receiver):
    add_rule(db, "bad system", f"{receiver.base_url}/{SECRET}\x01", signal_type="system", kind="json")
    add_rule(db, "good system", receiver.url(f"/{SECRET}"), signal_type="system", kind="json")

    results = send_system_alert("stream_stale", "no ticks for 5 minutes", conn=db, env={}, allow_private=True)

    assert [r.ok for r in results] == [False, True]
    assert len(receiver.delivered()) == 1
    assert all("sekrit" not in r.text + r.target for r in results)
