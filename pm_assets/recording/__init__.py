"""Recording live Polymarket data (`pm-intel record`). Replaying a recording through the pipeline
(`pm-intel replay`) is pm_assets/cli/replay_run.py; the format itself lives in pm_sim/recording.py (pm_sim serves it)."""
