"""Rules routed by category: tags (any of), exclude_tags, event_slugs and series, validated and applied."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from pm_assets.signals.scorecard import scorecard_summary
from pm_sensors.alerts.categories import CATEGORY_KEY, Category, attach_categories, known_tags
from pm_sensors.alerts.filters import AlertFilterError, filters_match, known_filters, validate_filters
from pm_sensors.alerts.sources import source_for
from tests.support.alerts import MARKET_A, MARKET_B, add_fresh_wallet, add_rule, deliveries

FRESH = source_for("fresh_wallet")
SPORTS = Category(frozenset({"sports", "nba"}), "nba-finals-2027", frozenset({"nba-2026", "nba 2026"}))


def _match(filters, category):
    row = (
        {"condition_id": MARKET_A} if category is None else {"condition_id": MARKET_A, CATEGORY_KEY: category}
    )
    return filters_match(validate_filters("fresh_wallet", filters), row, FRESH)


def test_category_filters_match_any_tag_exclude_event_and_series():
    assert _match({"tags": ["Politics", "NBA"]}, SPORTS)
    assert not _match({"tags": ["Politics"]}, SPORTS)
    assert not _match({"exclude_tags": ["sports"]}, SPORTS) and _match({"exclude_tags": ["crypto"]}, SPORTS)
    assert _match({"event_slugs": ["NBA-Finals-2027"]}, SPORTS) and not _match({"event_slugs": ["x"]}, SPORTS)
    assert _match({"series": ["NBA 2026"]}, SPORTS) and not _match({"series": ["nfl-2026"]}, SPORTS)
    # A signal on a market the universe has not stored: no category is known, so it is never guessed into one.
    assert not _match({"tags": ["sports"]}, None) and _match({"exclude_tags": ["sports"]}, None)


@pytest.mark.parametrize(
    ("filters", "word"),
    [
        ({"tags": []}, "non-empty list"),
        ({"tags": [""]}, "not a name"),
        ({"tags": [3]}, "not a name"),
        ({"series": {"a": 1}}, "non-empty list"),
        ({"tags": ["Sports"], "exclude_tags": ["sports"]}, "both name 'sports'"),
    ],
)
def test_bad_category_filters_are_refused_naming_the_key(filters, word):
    with pytest.raises(AlertFilterError, match=word):
        validate_filters("fresh_wallet", filters)


def test_category_filters_are_known_and_normalised():
    assert {"tags", "exclude_tags", "event_slugs", "series"} <= set(
        known_filters("fresh_wallet", ["usdc_size"])
    )
    clean = validate_filters("fresh_wallet", {"tags": [" Sports ", "sports", "NBA"]}, ["usdc_size"])
    assert clean == {"tags": ["nba", "sports"]}


def _catalogue(db):
    db.execute(
        "insert into events (event_id, slug, title, tags, series) values "
        "('e1', 'nba-finals-2027', 'NBA Finals', %s, %s), ('e2', 'us-election', 'Election', %s, '[]')",
        (
            Jsonb([{"id": "100639", "label": "Sports", "slug": "sports"}, {"id": "745", "label": "NBA"}]),
            Jsonb([{"id": "10345", "slug": "nba-2026", "title": "NBA 2026"}]),
            Jsonb([{"id": "2", "label": "Politics", "slug": "politics"}]),
        ),
    )
    db.execute(
        "insert into markets (condition_id, event_id, question, tags) values (%s, 'e1', 'Lakers win?', '[]'), "
        "(%s, 'e2', 'Who wins?', %s)",
        (MARKET_A, MARKET_B, Jsonb([{"id": "144", "label": "Elections", "slug": "elections"}])),
    )


def test_signals_reach_only_the_rule_of_their_category(db, receiver, make_deliverer):
    _catalogue(db)
    sports = add_rule(db, "sports desk", receiver.url("/sports"), filters={"tags": ["Sports"]})
    politics = add_rule(db, "politics desk", receiver.url("/politics"), filters={"tags": ["elections"]})
    no_nba = add_rule(db, "not nba", receiver.url("/rest"), filters={"exclude_tags": ["nba"]})
    by_series = add_rule(db, "nba series", receiver.url("/series"), filters={"series": ["nba-2026"]})
    on_sports = add_fresh_wallet(db, 1, market=MARKET_A)
    on_politics = add_fresh_wallet(db, 2, market=MARKET_B)
    unknown = add_fresh_wallet(db, 3, market="0x" + "c3" * 32)

    make_deliverer().tick(None)

    sent = {
        rule: {d["signal_key"] for d in deliveries(db, rule)}
        for rule in (sports, politics, no_nba, by_series)
    }
    assert sent == {
        sports: {on_sports},
        politics: {on_politics},
        no_nba: {on_politics, unknown},
        by_series: {on_sports},
    }
    assert [r.body["signal_key"] for r in receiver.delivered("/sports")] == [on_sports]
    assert [r.body["signal_key"] for r in receiver.delivered("/politics")] == [on_politics]


def test_scorecard_by_rule_and_known_tags_honour_the_catalogue(db):
    _catalogue(db)
    add_rule(db, "sports desk", "https://hooks.example.invalid/a", filters={"tags": ["sports"]})
    rows = [{"condition_id": MARKET_A}, {"condition_id": MARKET_B}, {"event_id": "e2"}]
    attach_categories(db, rows)
    assert rows[0][CATEGORY_KEY].event_slug == "nba-finals-2027"
    assert rows[1][CATEGORY_KEY].tags == {"politics", "elections"}
    assert rows[2][CATEGORY_KEY].tags == {"politics"}
    assert set(known_tags(db)) == {"Sports", "NBA", "Politics", "Elections"}
    for n, market in ((1, MARKET_A), (2, MARKET_B)):
        key = add_fresh_wallet(db, n, market=market)
        db.execute(
            "insert into signal_scorecard (signal_table, signal_key, horizon, condition_id, move_in_direction, "
            "correct, paper_profit, evidence) values ('fresh_wallet_trades', %s, '24h', %s, 0.05, true, 10, %s)",
            (key, market, Jsonb({"stake": 100})),
        )
    summary = scorecard_summary(db)
    assert summary["by_signal"]["fresh_wallet_trades"]["figures"]["24h"]["alerts"] == 2
    (rule,) = summary["by_rule"]
    assert rule["name"] == "sports desk" and rule["figures"]["24h"]["alerts"] == 1
