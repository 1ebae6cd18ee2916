"""Turning the alert-rule form into the row to store, or a RuleError saying what to fix."""

from __future__ import annotations

import json
from collections.abc import Collection

from dashboards.webhook_targets import validate_webhook_url
from pm_sensors.alerts.filters import AlertFilterError, validate_filters
from pm_sensors.alerts.sources import signal_types, source_for

DESTINATIONS = ("slack", "discord", "json")


class RuleError(ValueError):
    pass


def rule_params(
    *,
    rule_id: int | None,
    name: str,
    signal_type: str,
    destination_kind: str,
    webhook_url: str,
    filters: str,
    daily_budget: int,
    enabled: bool,
    numeric_columns: Collection[str] | None = None,
    tags: Collection[str] = (),
    exclude_tags: Collection[str] = (),
) -> dict:
    """The row to store, or RuleError / WebhookTargetError saying what to fix. `numeric_columns` (the signal
    table's) makes unknown filter names an error listing the known ones. `tags` / `exclude_tags` (the form's
    pickers of known tags) replace those keys of the JSON filters when given."""
    name = name.strip()
    if not name:
        raise RuleError("the rule needs a name")
    if signal_type not in signal_types() and source_for(signal_type) is None:
        raise RuleError(f"unknown signal {signal_type!r}; choose from {', '.join(signal_types())}")
    if destination_kind not in DESTINATIONS:
        raise RuleError(f"destination must be one of {', '.join(DESTINATIONS)}")
    webhook_url = webhook_url.strip()
    if rule_id is None and not webhook_url:
        raise RuleError("a new rule needs a webhook URL")
    stored_url = validate_webhook_url(webhook_url) if webhook_url else None
    try:
        parsed = json.loads(filters or "{}", parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise RuleError(f"filters are not valid JSON ({exc.msg} at character {exc.pos})") from None
    except (ValueError, RecursionError) as exc:
        raise RuleError(f"filters are not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(parsed, dict):
        raise RuleError('filters must be a JSON object, e.g. {"min_usdc": 10000}')
    for key, picked in (("tags", tags), ("exclude_tags", exclude_tags)):
        if picked:
            parsed[key] = list(picked)
    try:
        parsed = validate_filters(signal_type, parsed, numeric_columns)
    except AlertFilterError as exc:
        raise RuleError(f"filters: {exc}") from None
    return {
        "rule_id": rule_id,
        "name": name,
        "signal_type": signal_type,
        "destination_kind": destination_kind,
        "webhook_url": stored_url,
        "filters": json.dumps(parsed, allow_nan=False),
        "enabled": bool(enabled),
        "daily_budget": int(daily_budget) or None,
    }


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a filter can use")
