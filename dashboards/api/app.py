"""The API application: GET routes only, a reader login in read-only transactions, a bearer token on /v1."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from dashboards.api import models
from dashboards.api.routes import router
from pm_assets.storage.urls import mask_secrets

log = logging.getLogger("pm_intel.api")


def create_app(engine: Engine) -> FastAPI:
    """The API over `engine` (a reader login, read-only transactions: dashboards.api.server.reader_engine)."""
    app = FastAPI(
        title="pm-intel API",
        version="1",
        description="Read-only: signals, markets, wallets, watchlists, alert deliveries and the scorecard of a pm-intel "
        "warehouse. Every /v1 route takes `Authorization: Bearer <token>` (`pm-intel api token create`).",
        responses={405: {"model": models.Problem, "description": "the API is read-only: GET only"}},
    )
    app.state.engine = engine

    @app.get("/health", response_model=models.Health, summary="Liveness (no token needed, reads nothing)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(router)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    def _timeout(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "the query took too long; narrow the filters"}, status_code=503)

    # The message names no URL or statement: the details stay in the server's log, masked by the engine.
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(sa_exc.OperationalError)
    def _unreachable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "warehouse unreachable: %s",
            mask_secrets(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
        )
        return JSONResponse({"detail": "the warehouse is unreachable; try again shortly"}, status_code=503)

    return app
