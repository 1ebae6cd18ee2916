"""Fill keys: stable across paging, re-runs and views; identical fills in one transaction stay distinct."""

from __future__ import annotations

import json

import pydantic

from pm_assets.trades.fill_key import keyed_page_stream
from pm_assets.trades.models import Trade, TradePage
from tests.conftest import FIXTURES_DIR

V2 = json.loads((FIXTURES_DIR / "data_api_v2_trades_by_condition_2026-10-05.json").read_text())
V1 = json.loads((FIXTURES_DIR / "data_api_v1_trades_2026-03-22.json").read_text())


def _trade(**over) -> Trade:
    base = dict(V2["data"][0])
    base.update(over)
    return Trade.model_validate(base)


def test_recorded_v2_page_gets_one_distinct_key_per_row():
    rows = TradePage.model_validate(V2).rows
    keys = [k.fill_key for k in keyed_page_stream([rows])]
    assert len(keys) == len(rows) == len(set(keys))
    assert all(len(k) == 40 for k in keys)


def test_v1_and_v2_shapes_of_the_same_fill_get_the_same_key():
    v1_rows = pydantic.TypeAdapter(list[Trade]).validate_python(V1)
    as_v2 = [
        Trade.model_validate(
            {
                "proxy_wallet": r["proxyWallet"],
                "side": r["side"],
                "token_id": r["asset"],
                "condition_id": r["conditionId"],
                "size": r["size"],
                "price": r["price"],
                "timestamp": r["timestamp"],
                "transaction_hash": r["transactionHash"],
            }
        )
        for r in V1
    ]
    assert [k.fill_key for k in keyed_page_stream([v1_rows])] == [
        k.fill_key for k in keyed_page_stream([as_v2])
    ]


def test_identical_fills_in_one_transaction_stay_distinct_even_split_across_pages():
    twin = _trade(transaction_hash="0x" + "ab" * 32, timestamp=1791241900)
    other = _trade(transaction_hash="0x" + "cd" * 32, timestamp=1791241800)
    whole = [k.fill_key for k in keyed_page_stream([[twin, twin, twin, other]])]
    split = [k.fill_key for k in keyed_page_stream([[twin], [twin, twin], [other]])]
    assert len(set(whole)) == 4
    assert sorted(whole) == sorted(split)


def test_a_cut_walk_gives_a_subset_of_the_full_keys():
    twin = _trade(transaction_hash="0x" + "ab" * 32, timestamp=1791241900)
    full = {k.fill_key for k in keyed_page_stream([[twin, twin, twin]])}
    cut = {k.fill_key for k in keyed_page_stream([[twin]])}
    assert cut < full


def test_a_different_size_or_price_is_a_different_fill():
    a = _trade()
    keys = {k.fill_key for k in keyed_page_stream([[a, _trade(size=11), _trade(price=0.94)]])}
    assert len(keys) == 3


def test_model_accepts_real_quirks_and_names_garbage_fields():
    row = _trade(outcome_index=999, event_slug="")
    assert row.known_outcome_index is None and row.event_slug == ""
    drifted = _trade(size="12.5", timestamp="1791241834", unknown_field={"x": 1})
    assert drifted.size == 12.5 and drifted.timestamp == 1791241834
    for field, value in (("price", "abc"), ("proxy_wallet", "nobody"), ("timestamp", 1791241834000)):
        try:
            _trade(**{field: value})
        except pydantic.ValidationError as exc:
            assert field in str(exc)
        else:
            raise AssertionError(f"{field}={value!r} was accepted")


def test_62_hex_condition_ids_are_stored_in_the_66_character_form():
    row = _trade(condition_id="0x" + "12" * 31)
    assert len(row.condition_id) == 66 and row.condition_id.endswith("00")
