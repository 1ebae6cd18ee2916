"""`pm-intel bench NAME [args...]` runs bench/bench_NAME.py's main(argv); `pm-intel bench` lists them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: pm-intel bench NAME [args...]\nbenchmarks: " + ", ".join(available()))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in available():
        print(
            f"pm-intel: error: no benchmark {name!r}; choose from {', '.join(available())}", file=sys.stderr
        )
        return 2
    module = importlib.import_module(f"bench.bench_{name}")
    return int(module.main(rest) or 0)
