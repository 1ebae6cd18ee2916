"""Daily budget per rule: held-back matches, then one digest per rule and UTC day."""

from __future__ import annotations

from tests.support.alerts import add_fresh_wallet, add_rule, deliveries


def _previous_day(db, rule_id):
    """Pretend the day's deliveries were made yesterday (UTC), as the first tick after midnight sees them."""
    db.execute(
        "update alert_deliveries set created_at = created_at - interval '1 day' where rule_id = %s",
        (rule_id,),
    )


def test_budget_holds_back_extra_matches_and_one_digest_reports_them(db, receiver, make_deliverer):
    capped = add_rule(db, "capped", receiver.url("/capped"), kind="slack", budget=2)
    free = add_rule(db, "free", receiver.url("/free"))
    for n in range(5):
        add_fresh_wallet(db, n)
    deliverer = make_deliverer()

    cursor = deliverer.tick(None).cursor
    cursor = deliverer.tick(cursor).cursor

    assert len(receiver.delivered("/capped")) == 2 and len(receiver.delivered("/free")) == 5
    statuses = [r["status"] for r in deliveries(db, capped)]
    assert statuses.count("delivered") == 2 and statuses.count("over_budget") == 3

    _previous_day(db, capped)
    report = deliverer.tick(cursor)
    deliverer.tick(report.cursor)
    make_deliverer().tick(None)

    assert report.digests_created == 1 and report.digests_delivered == 1
    digests = [r for r in receiver.delivered("/capped") if "digest" in r.body["text"].lower()]
    assert len(digests) == 1
    assert "3 more fresh_wallet signals were held back" in digests[0].body["text"]
    statuses = [r["status"] for r in deliveries(db, capped)]
    assert statuses.count("digested") == 3 and statuses.count("over_budget") == 0
    row = db.execute(
        "select held_back, status, attempts from alert_digests where rule_id = %s", (capped,)
    ).fetchall()
    assert row == [(3, "delivered", 1)]
    assert db.execute("select count(*) from alert_digests where rule_id = %s", (free,)).fetchone()[0] == 0


def test_budget_counts_a_new_utc_day_afresh(db, receiver, make_deliverer):
    capped = add_rule(db, "capped", receiver.url(), budget=1)
    add_fresh_wallet(db, 1)
    deliverer = make_deliverer()
    cursor = deliverer.tick(None).cursor
    _previous_day(db, capped)
    add_fresh_wallet(db, 2)

    deliverer.tick(cursor)

    assert [r["status"] for r in deliveries(db, capped)] == ["delivered", "delivered"]
    assert db.execute("select count(*) from alert_digests").fetchone()[0] == 0


def test_digest_failure_is_retried_on_a_later_tick(db, receiver, make_deliverer):
    capped = add_rule(db, "capped", receiver.url(), budget=1)
    add_fresh_wallet(db, 1)
    add_fresh_wallet(db, 2)
    deliverer = make_deliverer(attempts_per_tick=1, max_backoff_s=0)
    cursor = deliverer.tick(None).cursor
    _previous_day(db, capped)
    receiver.fail_next(1, 502)

    cursor = deliverer.tick(cursor).cursor
    assert db.execute("select status, attempts from alert_digests").fetchall() == [("pending", 1)]
    deliverer.tick(cursor)

    assert db.execute("select status, attempts, held_back from alert_digests").fetchall() == [
        ("delivered", 2, 1)
    ]
    assert sum(1 for r in receiver.delivered() if r.body["kind"] == "digest") == 1
