"""The warehouse resource: one Postgres database, reached with psycopg 3 for bulk work and SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from pm_assets.storage.database import make_engine
from pm_assets.storage.urls import libpq_url, mask_url


class WarehouseResource(dg.ConfigurableResource):
    """Postgres warehouse. `database_url` comes from DATABASE_URL (set by `pm-intel up` for the embedded server)."""

    database_url: str

    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def masked_url(self) -> str:
        return mask_url(self.database_url)

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url, pool_size=4, max_overflow=4)
        return self._engine

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A psycopg 3 connection; commits on success, rolls back on error (unless autocommit)."""
        with psycopg.connect(libpq_url(self.database_url), autocommit=autocommit) as conn:
            yield conn
