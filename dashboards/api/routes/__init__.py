"""The API's routes, all GET under /v1 behind a bearer token (any other verb is 405), one module per resource."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from dashboards.api.paging import known_query_only, require_token
from dashboards.api.routes import alerts, markets, signals, wallets, watchlists
from dashboards.api.routes.params import ERRORS

router = APIRouter(
    prefix="/v1", dependencies=[Depends(require_token), Depends(known_query_only)], responses=ERRORS
)
for resource in (signals, markets, wallets, watchlists, alerts):
    router.include_router(resource.router)
