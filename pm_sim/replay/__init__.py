"""`pm-intel sim --replay DIR`: a recording served through pm_sim's contract (see pm_sim/RECORDING.md)."""
