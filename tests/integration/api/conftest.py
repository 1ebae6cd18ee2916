"""The API app over a seeded warehouse of each test's own, read as the reader."""

from tests.support.api import api  # noqa: F401  (fixture, shared by the contract and integration layers)
