"""`pm-intel status [--json]`: the same facts as the status page, for a terminal and for monitoring.

Exit code 0 for green, 1 for amber, 2 for red; red whenever the system cannot be seen.
"""

from __future__ import annotations

import argparse
import json

import psycopg

from pm_assets.coverage.status import RED, system_status, unreachable_status
from pm_assets.storage.database import DatabaseUnreachable, resolve_urls
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import libpq_url, mask_secrets, mask_url

EXIT_CODES = {"green": 0, "amber": 1, "red": 2}


def _collect() -> dict:
    try:
        urls = resolve_urls(load_settings(), start_embedded=False)
    except DatabaseUnreachable as exc:
        return unreachable_status(mask_secrets(str(exc)))
    try:
        with psycopg.connect(libpq_url(urls.warehouse), connect_timeout=5) as conn:
            return system_status(conn)
    except psycopg.errors.UndefinedTable as exc:
        return unreachable_status(
            f"the warehouse at {mask_url(urls.warehouse)} is not migrated ({exc.diag.message_primary})"
        )
    except psycopg.Error as exc:
        first_line = (
            mask_secrets(str(exc).strip().splitlines()[0]) if str(exc).strip() else type(exc).__name__
        )
        return unreachable_status(f"cannot reach the database at {mask_url(urls.warehouse)}: {first_line}")


def _render(report: dict) -> str:
    lines = [f"overall: {report['overall'].upper()}"]
    lines += [f"  {reason}" for reason in report["reasons"]] or [
        "  all parts beating, coverage proven, no open gaps"
    ]
    if report["heartbeats"]:
        lines.append("heartbeats:")
        lines += [
            f"  {part:<18} {f['age_s']:>8.1f} s ago ({f['last_beat']})"
            for part, f in report["heartbeats"].items()
        ]
    if report["coverage"]:
        lines.append("coverage today:")
        lines += [f"  {source:<18} {pct:>7.2f}%" for source, pct in report["coverage"].items()]
    lat = report["latency_s"]
    if lat.get("p50") is not None:
        lines.append(
            f"trade-to-alert latency (1 h): p50 {lat['p50']} s, p95 {lat['p95']} s, p99 {lat['p99']} s"
        )
    if report.get("open_gaps") is not None:
        lines.append(f"open gaps: {report['open_gaps']}")
    return "\n".join(lines)


def run_status(args: argparse.Namespace) -> int:
    report = _collect()
    print(json.dumps(report, default=str) if args.json else _render(report))
    return EXIT_CODES.get(report["overall"], EXIT_CODES[RED])
