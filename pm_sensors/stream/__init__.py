"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them."""

assets: list = []
asset_checks: list = []
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {}
