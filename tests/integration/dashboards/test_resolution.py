"""Markets nearing resolution: the query (ordering, window, in-flight states, price move, signals) and the page."""

from __future__ import annotations

import psycopg
import pytest

from dashboards.resolution_queries import nearing_resolution
from tests.support.apptest import open_page, texts
from tests.support.resolution_seed import EXPECTED_ORDER, PLANTED, plant, plant_signal

BY_LABEL = {p.label: p for p in PLANTED}


@pytest.fixture
def planted(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        now = conn.execute("select now()").fetchone()[0]
        plant(conn, now)
        plant_signal(conn, "soon", now, hours_ago=1)
        plant_signal(conn, "soon", now, hours_ago=30)  # older than 24 h: not counted
        yield conn, now


def _labels(rows):
    by_cid = {p.condition_id: p.label for p in PLANTED}
    return [by_cid[r["condition_id"]] for r in rows if r["condition_id"] in by_cid]


def test_window_in_flight_states_and_order(planted):
    conn, now = planted
    rows = nearing_resolution(conn, 72, now=now)
    assert _labels(rows) == list(EXPECTED_ORDER)
    assert _labels(nearing_resolution(conn, 6, now=now)) == ["disputed", "proposed", "soon"]
    assert _labels(nearing_resolution(conn, 6, now=now, in_flight=False)) == ["soon"]
    assert _labels(nearing_resolution(conn, 24 * 30, now=now, in_flight=False)) == ["soon", "tomorrow", "far"]
    soon = next(r for r in rows if r["condition_id"] == BY_LABEL["soon"].condition_id)
    assert soon["price"] == pytest.approx(0.83) and soon["move_24h"] == pytest.approx(0.22)
    assert soon["hours_to_end"] == pytest.approx(2.0, abs=0.01)
    assert soon["signals_24h"] == 1 and soon["signal_types"] == "fresh_wallet"
    assert soon["volume_24h"] == 12_500 and soon["liquidity"] == 40_000 and soon["tags"] == "Politics"
    disputed = next(r for r in rows if r["condition_id"] == BY_LABEL["disputed"].condition_id)
    assert disputed["uma_status"] == "disputed" and disputed["was_disputed"] and disputed["signals_24h"] == 0


@pytest.mark.parametrize("hours", [0, -1, 24 * 31])
def test_a_window_out_of_range_is_refused(planted, hours):
    with pytest.raises(ValueError, match="within_hours"):
        nearing_resolution(planted[0], hours)


def test_the_page_lists_the_planted_markets(world, warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        plant(conn, conn.execute("select now()").fetchone()[0])
    at = open_page("resolution")
    table = at.dataframe[0].value
    questions = [q for q in table["question"] if q in {p.question for p in PLANTED}]
    assert questions == [BY_LABEL[label].question for label in EXPECTED_ORDER]
    assert "Markets nearing resolution" in texts(at)
