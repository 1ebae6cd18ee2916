"""Recording live Polymarket data (`pm-intel record`) and replaying recordings through the pipeline
(`pm-intel replay`). The format itself lives in pm_sim/recording.py (pm_sim serves it)."""
