"""The delivery engine against a real warehouse and a real local HTTP receiver."""

from __future__ import annotations

from tests.support.alerts import (
    MARKET_A,
    MARKET_B,
    add_arbitrage,
    add_fresh_wallet,
    add_rule,
    add_spike,
    deliveries,
)


def test_each_signal_is_delivered_once_per_rule_across_ticks_and_reruns(db, receiver, make_deliverer):
    json_rule = add_rule(db, "all fresh json", receiver.url("/json"), kind="json")
    slack_rule = add_rule(db, "all fresh slack", receiver.url("/slack"), kind="slack")
    keys = [add_fresh_wallet(db, n) for n in range(3)]

    deliverer = make_deliverer()
    report = deliverer.tick(None)
    cursor = report.cursor
    for _ in range(3):
        cursor = deliverer.tick(cursor).cursor
    make_deliverer().tick(None)  # a re-run with its cursor lost rescans the same rows

    assert report.delivered == 6
    assert sorted(r.body["signal_key"] for r in receiver.delivered("/json")) == sorted(keys)
    slack = receiver.delivered("/slack")
    assert len(slack) == 3 and all("$48,200 buy of YES" in r.body["text"] for r in slack)
    rows = deliveries(db)
    assert [r["status"] for r in rows] == ["delivered"] * 6
    assert {r["rule_id"] for r in rows} == {json_rule, slack_rule}
    for row in rows:
        assert row["attempts"] == 1
        assert row["upstream_at"] < row["ingested_at"] <= row["signal_at"] <= row["first_attempt_at"]
        assert row["first_attempt_at"] <= row["delivered_at"]


def test_transient_failures_are_retried_then_delivered(db, receiver, make_deliverer, sleeps):
    add_rule(db, "r", receiver.url())
    add_fresh_wallet(db, 1)
    receiver.fail_next(1, 500)
    receiver.fail_next(1, 429, {"Retry-After": "2"})

    report = make_deliverer(attempts_per_tick=3).tick(None)

    assert report.delivered == 1
    assert [r.status for r in receiver.requests] == [500, 429, 200]
    assert sleeps[1] == 2.0  # Retry-After honoured
    (row,) = deliveries(db)
    assert row["status"] == "delivered" and row["attempts"] == 3 and row["last_error"] is None


def test_long_retry_after_is_scheduled_for_a_later_tick_not_slept(db, receiver, make_deliverer, sleeps):
    add_rule(db, "r", receiver.url())
    add_fresh_wallet(db, 1)
    receiver.fail_next(1, 429, {"Retry-After": "600"})

    report = make_deliverer().tick(None)

    assert sleeps == [] and report.retrying == 1
    (row,) = deliveries(db)
    assert row["status"] == "pending" and row["last_status_code"] == 429
    waited = db.execute(
        "select extract(epoch from next_attempt_at - now()) from alert_deliveries"
    ).fetchone()[0]
    assert 500 < waited <= 600


def test_persistent_failure_is_recorded_with_the_url_masked(db, receiver, make_deliverer):
    add_rule(db, "r", receiver.url("/services/T0/B0/sekrit-token"))
    add_fresh_wallet(db, 1)
    receiver.fail_next(10, 503)
    deliverer = make_deliverer(attempts_per_tick=2, max_attempts=4, max_backoff_s=0)

    cursor = deliverer.tick(None).cursor
    (row,) = deliveries(db)
    assert row["status"] == "pending" and row["attempts"] == 2
    report = deliverer.tick(cursor)

    (row,) = deliveries(db)
    assert report.failed == 1
    assert row["status"] == "failed" and row["attempts"] == 4 and row["last_status_code"] == 503
    assert "sekrit-token" not in row["last_error"]
    assert f"{receiver.base_url}/***" in row["last_error"] and "gave up after 4 attempts" in row["last_error"]
    assert len(receiver.requests) == 4


def test_client_errors_other_than_429_are_not_retried(db, receiver, make_deliverer):
    add_rule(db, "r", receiver.url())
    add_fresh_wallet(db, 1)
    receiver.fail_next(1, 404)

    make_deliverer().tick(None)

    (row,) = deliveries(db)
    assert row["status"] == "failed" and row["attempts"] == 1 and "HTTP 404" in row["last_error"]
    assert len(receiver.requests) == 1


def test_receiver_down_for_a_while_then_back(db, receiver, make_deliverer):
    add_rule(db, "r", receiver.url())
    keys = [add_fresh_wallet(db, n) for n in range(3)]
    receiver.set_down(True)
    deliverer = make_deliverer(attempts_per_tick=1, max_backoff_s=0)

    cursor = deliverer.tick(None).cursor
    # One dead target costs one attempt per tick, not one per queued delivery.
    assert len(receiver.requests) == 1
    assert {r["status"] for r in deliveries(db)} == {"pending"}
    receiver.set_down(False)
    deliverer.tick(cursor)

    assert sorted(r.body["signal_key"] for r in receiver.delivered()) == sorted(keys)
    assert {r["status"] for r in deliveries(db)} == {"delivered"}


def test_rule_filters_select_signals_across_tables(db, receiver, make_deliverer):
    add_rule(db, "big", receiver.url("/big"), filters={"min_usdc": 40_000})
    add_rule(
        db,
        "market b arbs",
        receiver.url("/arb"),
        signal_type="arbitrage",
        filters={"min_edge": 0.02, "condition_ids": [MARKET_B]},
    )
    add_rule(
        db,
        "yes spikes",
        receiver.url("/spike"),
        signal_type="price_spike",
        filters={"summary_contains": "yes MOVED", "max_move": 0.5},
    )
    big = add_fresh_wallet(db, 1, usdc=48_200)
    add_fresh_wallet(db, 2, usdc=12_000)
    arb = add_arbitrage(db, 1, edge=0.03)
    add_arbitrage(db, 2, edge=0.01)
    add_arbitrage(db, 3, edge=0.05, market=MARKET_A)
    spike = add_spike(db, 1, move=0.15)
    add_spike(db, 2, move=0.6)

    make_deliverer().tick(None)

    assert [r.body["signal_key"] for r in receiver.delivered("/big")] == [big]
    assert [r.body["signal_key"] for r in receiver.delivered("/arb")] == [arb]
    assert [r.body["signal_key"] for r in receiver.delivered("/spike")] == [spike]


def test_disabled_rules_and_suppressed_signals_send_nothing(db, receiver, make_deliverer):
    add_rule(db, "off", receiver.url("/off"), enabled=False)
    add_rule(db, "on", receiver.url("/on"))
    add_fresh_wallet(db, 1, suppressed="market_too_liquid")

    make_deliverer().tick(None)

    assert receiver.requests == [] and deliveries(db) == []


def test_signals_committed_late_behind_the_cursor_are_still_delivered(db, receiver, make_deliverer):
    rule = add_rule(db, "r", receiver.url())
    db.execute("update alert_rules set created_at = now() - interval '1 hour' where rule_id = %s", (rule,))
    deliverer = make_deliverer()
    first = add_fresh_wallet(db, 1)
    cursor = deliverer.tick(None).cursor
    # A slow writer's transaction started before the first row was written and commits only now.
    late = add_fresh_wallet(
        db, 2, detected_at=db.execute("select now() - interval '5 seconds'").fetchone()[0]
    )
    deliverer.tick(cursor)

    assert sorted(r.body["signal_key"] for r in receiver.delivered()) == sorted([first, late])


def test_a_new_rule_does_not_replay_older_signals(db, receiver, make_deliverer):
    add_fresh_wallet(db, 1)
    add_rule(db, "new", receiver.url())
    fresh = add_fresh_wallet(db, 2)

    make_deliverer().tick(None)

    assert [r.body["signal_key"] for r in receiver.delivered()] == [fresh]


def test_two_deliverers_ticking_at_once_post_each_signal_once(db, receiver, make_deliverer):
    import threading

    add_rule(db, "r", receiver.url())
    keys = [add_fresh_wallet(db, n) for n in range(40)]
    deliverers = [make_deliverer(send_batch=10), make_deliverer(send_batch=10)]

    def run(d):
        cursor = None
        for _ in range(6):
            cursor = d.tick(cursor).cursor

    threads = [threading.Thread(target=run, args=(d,)) for d in deliverers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.body["signal_key"] for r in receiver.delivered()) == sorted(keys)
    assert {r["status"] for r in deliveries(db)} == {"delivered"}


def test_public_target_is_resolved_before_posting_and_dns_trouble_is_retried(db, warehouse_url):
    import httpx
    import psycopg

    from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings

    answers = {"hooks.example.com": OSError("Temporary failure in name resolution")}

    def resolver(host, port):
        answer = answers[host]
        if isinstance(answer, Exception):
            raise answer
        return answer

    posted = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda req: posted.append(req) or httpx.Response(200))
    )
    add_rule(db, "public", "https://hooks.example.com/services/T0/sekrit", kind="slack")
    add_fresh_wallet(db, 1)
    deliverer = AlertDeliverer(
        lambda: psycopg.connect(warehouse_url, autocommit=True),
        DeliverySettings(allow_private=False, max_backoff_s=0),
        client=client,
        resolver=resolver,
    )

    cursor = deliverer.tick(None).cursor
    (row,) = deliveries(db)
    assert row["status"] == "pending" and row["attempts"] == 1 and posted == []
    assert "does not resolve" in row["last_error"] and "sekrit" not in row["last_error"]

    answers["hooks.example.com"] = ["34.1.2.3"]
    deliverer.tick(cursor)
    (row,) = deliveries(db)
    assert row["status"] == "delivered" and row["attempts"] == 2
    # Posted to the checked address, naming the host in the Host header and the TLS server name.
    assert [str(r.url) for r in posted] == ["https://34.1.2.3/services/T0/sekrit"]
    assert posted[0].headers["host"] == "hooks.example.com"
    assert posted[0].extensions["sni_hostname"] == "hooks.example.com"

    answers["hooks.example.com"] = ["34.1.2.3", "169.254.169.254"]  # rebinding to the metadata address
    add_fresh_wallet(db, 2)
    deliverer.tick(cursor)
    statuses = sorted(r["status"] for r in deliveries(db))
    assert statuses == ["delivered", "failed"] and len(posted) == 1
