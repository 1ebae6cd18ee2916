"""The live run's small rules, without a database: which checks it evaluates, and when it polls the feed again."""

from __future__ import annotations

import dagster as dg

from pm_assets.definitions import defs
from pm_sensors.live.live_pass import LiveState
from pm_sensors.live.periodic import LIVE_CHECKS


def test_every_live_check_is_a_check_declared_on_its_asset():
    declared = set(defs.resolve_asset_graph().asset_check_keys)
    for check in LIVE_CHECKS:
        assert dg.AssetCheckKey(dg.AssetKey(check.asset), check.name) in declared, check


def test_a_tick_second_the_feed_does_not_show_yet_is_owed_a_few_prompt_polls_not_a_sleep():
    state = LiveState(newest_tick_s=100)
    state.feed_seen(99, retries=3)  # the feed has not indexed second 100 yet
    assert state.feed_retries_left == 3
    state.feed_seen(99, retries=3)
    state.feed_seen(None, retries=3)
    assert state.feed_retries_left == 1
    state.newest_tick_s = 101  # a newer tick: its own prompt polls
    state.feed_seen(100, retries=3)
    assert state.feed_retries_left == 3
    state.feed_seen(101, retries=3)
    assert state.feed_retries_left == 0
    state.feed_seen(101, retries=3)
    assert state.feed_retries_left == 0
