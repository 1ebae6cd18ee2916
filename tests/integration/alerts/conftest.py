"""Alert fixtures: a local receiver, a connection to this test's warehouse, and deliverers whose sleeps are recorded."""

from __future__ import annotations

import psycopg
import pytest

from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings
from pm_sensors.alerts.receiver import running_receiver


@pytest.fixture
def receiver():
    with running_receiver() as r:
        yield r


@pytest.fixture
def db(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_deliverer(warehouse_url, sleeps):
    def make(**overrides) -> AlertDeliverer:
        settings = DeliverySettings(**{"allow_private": True, **overrides})
        return AlertDeliverer(
            lambda: psycopg.connect(warehouse_url, autocommit=True), settings, sleep=sleeps.append
        )

    return make
