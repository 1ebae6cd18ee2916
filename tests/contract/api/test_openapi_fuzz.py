"""The API against its own OpenAPI document (schemathesis): generated requests on every operation, each response
checked: no 5xx, status code, content type and body as documented, 401 when the token is left out (`ignored_auth`),
405 for a verb the document does not list (`unsupported_method`). Derandomized, examples bounded per operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from dashboards.api.app import create_app
from tests.support.api import ApiWorld

pytestmark = pytest.mark.fuzz


# The document is read once, at collection, from an app whose engine each test sets (loading /openapi.json
# touches no database); requests go to the app in process (ASGI), as they would to uvicorn.
APP = create_app(None)  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def auth(api: ApiWorld) -> dict[str, str]:
    APP.state.engine = api.client.app.state.engine
    return api.auth


# A cursor or a filter can be well-formed by the document and still not apply (a cursor this API never handed
# out, a wallet filter on arbitrage windows): the API answers 400 with the reason, which the document lists.
# `positive_data_acceptance` would call that a rejection of valid data, so it is left out.
EXCLUDED = [openapi_checks.positive_data_acceptance]


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_its_document_says(case, auth):
    response = case.call_and_validate(headers=dict(auth), excluded_checks=EXCLUDED)
    assert response.status_code < 500
    if case.method.upper() != "GET":  # schemathesis also sends verbs the document does not list
        assert response.status_code == 405


def test_the_document_lists_only_get_operations(api: ApiWorld):
    document = api.client.get("/openapi.json").json()
    verbs = {verb for path in document["paths"].values() for verb in path}
    assert verbs == {"get"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        if path.startswith("/v1/"):
            assert "401" in item["get"]["responses"], path


def test_responses_on_the_seeded_rows_match_the_document(api: ApiWorld, auth):
    """Generated identifiers rarely name a seeded market or wallet; these requests do, for every route and type."""
    from dashboards.api.signal_tables import signal_tables

    market, wallet = api.world.busy_market, api.world.fresh_wallet
    checked = 0
    for path, item in api.client.get("/openapi.json").json()["paths"].items():
        paged = any(p["name"] == "limit" for p in item["get"].get("parameters", []))
        types = [t.signal_type for t in signal_tables()] if "{signal_type}" in path else [None]
        for signal_type in types:
            url = path.replace("{condition_id}", market).replace("{wallet}", wallet)
            url = url.replace("{watchlist_id}", str(api.watchlist_id))
            url = url.replace("{signal_type}", signal_type or "")
            response = api.client.get(url, headers=dict(auth), params={"limit": 3} if paged else {})
            assert response.status_code == 200, (url, response.text)
            schema[path]["GET"].validate_response(response)
            checked += 1
    assert checked >= 20
