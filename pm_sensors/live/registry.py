"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_sensors.stream.supervisor import build_supervisor

from .driver import HEARTBEAT_PART
from .job import SINGLETON_TAGS, live_job

live_supervisor_sensor = build_supervisor(
    "live_supervisor_sensor",
    live_job,
    HEARTBEAT_PART,
    SINGLETON_TAGS,
    "Keeps exactly one live_job run alive (restarts it when it dies or its heartbeat goes stale): the one path "
    "from a new fill to a delivered alert, and the minute-scale work reported as asset events.",
    run_key_prefix="live-driver",
    # The driver beats after each pass, and a pass may take a full poll (40 s budget) plus signals and delivery.
    stale_after_s=180.0,
    # From the run's start to the driver's first beat: a run worker and its step process importing the code
    # location, which took 40-100 s on a busy 2-core machine (90 s killed every run before its first beat).
    startup_grace_s=180.0,
)

assets: list = []
asset_checks: list = []
jobs: list = [live_job]
schedules: list = []
sensors: list = [live_supervisor_sensor]
resources: dict = {}
