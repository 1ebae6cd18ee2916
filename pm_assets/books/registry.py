"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_assets.books.assets import order_book_snapshots
from pm_assets.books.checks import book_checks

assets: list = [order_book_snapshots]
asset_checks: list = [*book_checks]
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {}
