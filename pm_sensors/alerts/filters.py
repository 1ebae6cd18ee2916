"""Alert rule filters (alert_rules.filters jsonb): validation and matching against a signal row.

Supported keys, all optional, all must hold (AND):
- `min_<name>` / `max_<name>`: a number; the signal row's column (or the source's alias for it, e.g.
  `min_usdc` -> usdc_size on fresh_wallet, capturable_usdc on arbitrage) must be >= / <= it. A row with
  the column missing or null does not match.
- `condition_ids`: a list of 66-character condition ids; the row's condition_id must be one of them.
- `summary_contains`: text; evidence["summary"] must contain it (case-insensitive).
- `tags` (any of) / `exclude_tags` (none of): lists of Gamma tag labels or slugs, matched case-insensitively
  against the signal's market and event tags; `event_slugs`: its event's slug is one of them; `series`: its
  event's series (slug or title) is one of them. These read the row's Category (categories.py): a signal whose
  market is not stored matches no `tags` / `event_slugs` / `series` and passes `exclude_tags`.
- `against_favourite`: `{"within_hours": 24, "max_entry_price": 0.35, "min_usdc": 5000}` (or `true` for those
  defaults): large entries against the favourite shortly before the end date (near_resolution.py; position
  signals only).
`{}` matches every alert-worthy signal of the rule's type. Dagster-free: the dashboard validates with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from pm_sensors.alerts import near_resolution
from pm_sensors.alerts.categories import CATEGORY_KEY, Category
from pm_sensors.alerts.sources import SignalSource, source_for

_CONDITION_ID = re.compile(r"^0x[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_MAX_CONDITION_IDS = 500
_MAX_TEXT = 200
_MAX_NAMES = 100
CATEGORY_FILTERS = ("tags", "exclude_tags", "event_slugs", "series")
# Signals whose evidence records a position's entry price and hours to the end date.
NEAR_RESOLUTION_TYPES = ("fresh_wallet", "size_anomaly", "fresh_wallet_trades", "size_anomalies")


class AlertFilterError(ValueError):
    """A filters document that cannot be applied; the message names the offending key."""


def known_filters(signal_type: str, numeric_columns: Collection[str]) -> list[str]:
    """Every filter key a rule of this type may use, given the signal table's numeric columns."""
    source = source_for(signal_type)
    names = set(numeric_columns)
    if source is not None:
        names |= {alias for alias, column in source.aliases.items() if column in numeric_columns}
    bounds = [f"{side}_{name}" for name in sorted(names) for side in ("min", "max")]
    extra = [near_resolution.KEY] if signal_type in NEAR_RESOLUTION_TYPES else []
    return [*bounds, "condition_ids", "summary_contains", *CATEGORY_FILTERS, *extra]


def validate_filters(
    signal_type: str, filters: Mapping[str, Any] | None, numeric_columns: Collection[str] | None = None
) -> dict[str, Any]:
    """The filters, normalized (numbers as float, condition ids lower-cased), or AlertFilterError.

    With `numeric_columns` (the signal table's, as the dashboard reads them when a rule is saved), a
    min_/max_ key must name one of them or an alias for one: a filter on a column the table lacks would
    silently never match.
    """
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise AlertFilterError("filters must be a JSON object")
    source = source_for(signal_type)
    clean: dict[str, Any] = {}
    for key, value in filters.items():
        if not isinstance(key, str):
            raise AlertFilterError(f"filter names must be text, got {key!r}")
        if key.startswith(("min_", "max_")):
            name = key[4:]
            if not _NAME.match(name):
                raise AlertFilterError(f"{key[:80]!r}: not a column name")
            column = source.column_for(name) if source is not None else name
            if numeric_columns is not None and column not in numeric_columns:
                raise _unknown(key, signal_type, numeric_columns)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise AlertFilterError(f"{key} must be a finite number, got {str(value)[:40]!r}")
            clean[key] = float(value)
        elif key == "condition_ids":
            if not isinstance(value, list) or not value or len(value) > _MAX_CONDITION_IDS:
                raise AlertFilterError(
                    f"condition_ids must be a non-empty list of at most {_MAX_CONDITION_IDS}"
                )
            ids = [str(v).strip().lower() for v in value]
            bad = [v for v in ids if not _CONDITION_ID.match(v)]
            if bad:
                raise AlertFilterError(f"condition_ids: {bad[0]!r} is not a 66-character 0x condition id")
            clean[key] = sorted(set(ids))
        elif key == "summary_contains":
            if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
                raise AlertFilterError(
                    f"summary_contains must be non-empty text of at most {_MAX_TEXT} characters"
                )
            clean[key] = value.strip()
        elif key in CATEGORY_FILTERS:
            clean[key] = _names(key, value)
        elif key == near_resolution.KEY:
            if signal_type not in NEAR_RESOLUTION_TYPES:
                raise AlertFilterError(
                    f"{key} applies to position signals ({', '.join(NEAR_RESOLUTION_TYPES[:2])}), not {signal_type}"
                )
            try:
                clean[key] = near_resolution.validate(value)
            except near_resolution.NearResolutionError as exc:
                raise AlertFilterError(str(exc)) from None
        elif numeric_columns is not None:
            raise _unknown(key, signal_type, numeric_columns)
        else:
            raise AlertFilterError(
                f"unknown filter {key[:80]!r}; use min_<column>, max_<column>, condition_ids, summary_contains, "
                "tags, exclude_tags, event_slugs, series or against_favourite"
            )
    if source is None and clean and signal_type != "system":
        raise AlertFilterError(f"unknown signal type {signal_type!r}")
    if set(clean.get("tags", ())) & set(clean.get("exclude_tags", ())):
        both = sorted(set(clean["tags"]) & set(clean["exclude_tags"]))
        raise AlertFilterError(f"tags and exclude_tags both name {both[0]!r}")
    return clean


def _names(key: str, value: Any) -> list[str]:
    """A list of tag / slug / series names, trimmed and lower-cased (Gamma's labels vary in case)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > _MAX_NAMES:
        raise AlertFilterError(f"{key} must be a non-empty list of at most {_MAX_NAMES} names")
    names = []
    for v in value:
        if not isinstance(v, str) or not v.strip() or len(v) > _MAX_TEXT:
            raise AlertFilterError(f"{key}: {str(v)[:40]!r} is not a name (non-empty text)")
        names.append(v.strip().lower())
    return sorted(set(names))


def needs_category(filters: Mapping[str, Any]) -> bool:
    """Whether matching these filters reads the row's Category (so the caller loads it)."""
    return any(k in filters for k in CATEGORY_FILTERS)


def _category_match(key: str, names: list[str], category: Category | None) -> bool:
    if key == "exclude_tags":
        return category is None or not category.tags.intersection(names)
    if category is None:
        return False
    if key == "tags":
        return bool(category.tags.intersection(names))
    if key == "event_slugs":
        return category.event_slug in names
    return bool(category.series.intersection(names))


def _unknown(key: str, signal_type: str, numeric_columns: Collection[str]) -> AlertFilterError:
    known = ", ".join(known_filters(signal_type, numeric_columns))
    return AlertFilterError(f"unknown filter {key[:80]!r} for {signal_type}; known filters: {known}")


def filters_match(filters: Mapping[str, Any], row: Mapping[str, Any], source: SignalSource) -> bool:
    """Whether a signal row (columns plus `evidence`) passes a rule's validated filters."""
    for key, bound in filters.items():
        if key.startswith(("min_", "max_")):
            value = _number(row.get(source.column_for(key[4:])))
            if value is None:
                return False
            if key.startswith("min_") and value < bound:
                return False
            if key.startswith("max_") and value > bound:
                return False
        elif key == "condition_ids":
            if str(row.get("condition_id") or "").lower() not in bound:
                return False
        elif key == "summary_contains":
            evidence = row.get("evidence") or {}
            summary = evidence.get("summary") if isinstance(evidence, Mapping) else None
            if not summary or bound.lower() not in str(summary).lower():
                return False
        elif key in CATEGORY_FILTERS:
            if not _category_match(key, bound, row.get(CATEGORY_KEY)):
                return False
        elif key == near_resolution.KEY:
            if not near_resolution.matches(bound, row):
                return False
    return True


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # numeric columns may arrive as Decimal
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
