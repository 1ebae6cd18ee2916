import json

import pytest

from pm_assets.markets.identifiers import (
    IdentifierError,
    market_generation,
    normalize_condition_id,
    outcome_ids,
    position_ids_match_condition,
    v2_position_id,
)
from tests.conftest import FIXTURES_DIR

FIXTURES = FIXTURES_DIR


def _load(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_v2_event_example_position_ids_are_padded_condition_plus_outcome_index():
    market = _load("gamma_event_v2_docs_example.json")["markets"][0]
    condition = normalize_condition_id(market["conditionId"])
    assert len(market["conditionId"]) == 64 and len(condition) == 66
    assert condition == market["conditionId"].lower() + "00"
    assert [v2_position_id(condition, i) for i in range(2)] == market["positionIds"]
    assert position_ids_match_condition(market["conditionId"], market["positionIds"])


def test_v2_market_example_ids_chosen_by_version():
    market = _load("gamma_market_v2_docs_example.json")
    assert market_generation(market["version"]) == "v2"
    assert (
        outcome_ids(market["version"], market["clobTokenIds"], market["positionIds"]) == market["positionIds"]
    )


def test_v2_rest_book_asset_is_outcome_zero_of_its_market():
    book = _load("clob_book_rest_v2_2026-10-05.json")
    assert normalize_condition_id(book["market"]) == book["market"]
    assert v2_position_id(book["market"], 0) == book["asset_id"]


def test_v1_market_fixture_condition_id_is_kept_and_clob_ids_used():
    market = _load("gamma_market_2026-06-14.json")
    market = market[0] if isinstance(market, list) else market
    assert normalize_condition_id(market["conditionId"]) == market["conditionId"].lower()
    ids = json.loads(market["clobTokenIds"])
    assert outcome_ids(market.get("version"), ids, None) == ids


def test_ctf_market_carrying_position_ids_keeps_its_clob_token_ids():
    assert outcome_ids("v1", ["11", "12"], ["99", "100"]) == ["11", "12"]
    assert outcome_ids(None, ["11", "12"], ["99", "100"]) == ["11", "12"]
    assert outcome_ids("v2", ["11", "12"], ["99", "100"]) == ["99", "100"]


@pytest.mark.parametrize(
    "bad", ["", "0x", "0x1234", "0x" + "g" * 64, "0x" + "a" * 63, "0x" + "a" * 66, None, 123]
)
def test_normalize_condition_id_refuses_garbage(bad):
    with pytest.raises(IdentifierError):
        normalize_condition_id(bad)


def test_normalize_condition_id_lowercases_and_is_idempotent():
    raw = "0x" + "AB" * 31
    once = normalize_condition_id(raw)
    assert once == "0x" + "ab" * 31 + "00"
    assert normalize_condition_id(once) == once


@pytest.mark.parametrize("bad", ["1.5e10", "-1", str(2**256), "abc"])
def test_outcome_ids_refuse_non_decimal(bad):
    with pytest.raises(IdentifierError):
        outcome_ids("v1", [bad], None)


def test_unknown_version_is_an_error():
    with pytest.raises(IdentifierError):
        market_generation("v3")
