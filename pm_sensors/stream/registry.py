"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from .job import StreamSettingsResource, stream_consumer_job
from .supervisor import build_stream_supervisor

assets: list = []
asset_checks: list = []
jobs: list = [stream_consumer_job]
schedules: list = []
sensors: list = [build_stream_supervisor()]
resources: dict = {"stream_settings": StreamSettingsResource()}
