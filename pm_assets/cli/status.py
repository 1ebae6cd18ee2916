"""`pm-intel status`: placeholder until the coverage ledger lands; never claims green about what it cannot see."""

from __future__ import annotations

import argparse
import json


def run_status(args: argparse.Namespace) -> int:
    report = {
        "overall": "red",
        "reasons": ["health reporting is not built yet: nothing proves coverage, so the answer is red"],
        "coverage": {},
        "latency_s": {"p50": None, "p95": None, "p99": None},
        "heartbeats": {},
        "open_gaps": 0,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"overall: {report['overall']} ({report['reasons'][0]})")
    return 1
