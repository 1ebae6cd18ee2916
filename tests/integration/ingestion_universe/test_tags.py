"""Gamma's tags and series: parsed from a real payload, served by pm_sim the same way, stored by the universe."""

import json
from pathlib import Path

import dagster as dg
import pytest

from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.markets.models import GammaEvent, GammaMarket
from pm_assets.markets.universe import EVENT_COLUMNS, event_row
from pm_sensors.alerts.categories import tag_names
from pm_sim import gamma as sim_gamma
from pm_sim.config import SimConfig
from pm_sim.sim import Sim
from pm_sim.testing import running_sim
from tests import loopback
from tests.support.universe import sim_resources, table_rows

REAL_EVENT = Path(__file__).parent / "fixtures" / "gamma_event_with_tags_2026-03-11.json"


def test_real_event_tags_parse_and_store_with_ids_as_text():
    event = GammaEvent.model_validate(json.loads(REAL_EVENT.read_text()))
    assert [t.label for t in event.tags] == [
        "World Elections",
        "Global Elections",
        "Elections",
        "Politics",
        "US Election",
        "Earn 4%",
        "Primaries",
    ]
    assert event.tags[3].id == "2" and event.tags[4].slug == "us-presidential-election"
    row = dict(zip(EVENT_COLUMNS, event_row(event), strict=True))
    stored = json.loads(row["tags"])
    assert stored[3] == {"id": "2", "label": "Politics", "slug": "politics"}
    assert json.loads(row["series"]) == []  # this event belongs to no series
    # A rule may name a tag by its label or its slug, in any case.
    names = tag_names(stored)
    assert {"politics", "us election", "us-presidential-election", "earn 4%"} <= names


def test_series_objects_or_a_bare_series_slug_are_kept():
    raw = json.loads(REAL_EVENT.read_text())
    with_series = {
        **raw,
        "seriesSlug": "nba-2026",
        "series": [{"id": "10345", "slug": "nba-2026", "title": "NBA"}],
    }
    row = dict(zip(EVENT_COLUMNS, event_row(GammaEvent.model_validate(with_series)), strict=True))
    assert json.loads(row["series"]) == [{"id": "10345", "slug": "nba-2026", "title": "NBA"}]
    bare = dict(
        zip(EVENT_COLUMNS, event_row(GammaEvent.model_validate({**raw, "seriesSlug": "x"})), strict=True)
    )
    assert json.loads(bare["series"]) == [{"slug": "x"}]


def test_pm_sim_tags_are_gamma_shaped_topical_and_deterministic():
    with running_sim(markets=60, seed=4) as sim:
        body = loopback.get(sim.gamma_url + "/events/keyset", params={"limit": 100, "closed": "false"}).json()
        plain = loopback.get(sim.gamma_url + "/markets/keyset", params={"limit": 5, "closed": "false"}).json()
        tagged = loopback.get(
            sim.gamma_url + "/markets/keyset", params={"limit": 5, "closed": "false", "include_tag": "true"}
        ).json()
        politics = loopback.get(
            sim.gamma_url + "/events/keyset", params={"limit": 100, "closed": "false", "tag_id": 2}
        ).json()
    evs = [GammaEvent.model_validate(e) for e in body["events"]]
    assert all(isinstance(t["id"], str) and t["slug"] for e in body["events"] for t in e["tags"])
    categories = {e.tags[0].label for e in evs}
    assert len(categories) >= 4 and categories <= set(sim_gamma.SUB_TAGS)
    for e in evs:
        if e.title and e.title.startswith("Bitcoin above"):
            assert e.tags[0].label == "Crypto"
        if e.title and e.title.startswith("Team "):
            assert e.tags[0].label == "Sports"
    assert any(e.series for e in evs) and all(e.series_slug == e.series[0].slug for e in evs if e.series)
    assert all("tags" not in m for m in plain["markets"])  # only with include_tag, as Gamma
    assert all(GammaMarket.model_validate(m).tags for m in tagged["markets"])
    assert politics["events"] and all(
        any(t["label"] == "Politics" for t in e["tags"]) for e in politics["events"]
    )


def test_universe_stores_event_and_market_tags_and_series(warehouse_url):
    with running_sim(markets=50, seed=6) as sim:
        result = dg.materialize([events, markets_and_tokens], resources=sim_resources(sim, warehouse_url))
        assert result.success
        expected = {
            ev.id: [label for _, label in sim_gamma.event_tag_pairs(sim.sim, ev)] for ev in sim.world.events
        }
    stored = table_rows(warehouse_url, "select event_id, tags, series from events where title is not null")
    assert stored
    for event_id, tags, series in stored:
        assert [t["label"] for t in tags] == expected[event_id]
        assert all(s["slug"] for s in series)
    untagged = table_rows(warehouse_url, "select count(*) from markets where tags = '[]'::jsonb")[0][0]
    assert untagged == 0
    assert table_rows(warehouse_url, "select count(*) from events where series <> '[]'::jsonb")[0][0] > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_tags_are_the_same_for_a_seed_and_each_event_has_narrower_tags(seed):
    def tags(s: int) -> list[list[tuple[int, str]]]:
        sim = Sim(SimConfig(seed=s, markets=40))
        return [sim_gamma.event_tag_pairs(sim, ev) for ev in sim.world.events]

    first = tags(seed)
    assert first == tags(seed) and first != tags(seed + 10)
    assert all(2 <= len(pairs) <= 3 and len({p[0] for p in pairs}) == len(pairs) for pairs in first)
