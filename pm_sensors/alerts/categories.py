"""Where a signal sits in Gamma's catalogue: its market's and event's tags, its event slug and series.

Alert rules route by these (`tags`, `exclude_tags`, `event_slugs`, `series` in filters.py). Signal rows name a
market (`condition_id`) or, for negRisk arbitrage sets, an event (`event_id`); the category comes from the
stored `markets` / `events` rows, which the universe crawl keeps current. Dagster-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

CATEGORY_KEY = "_category"  # where a row carries its Category while filters are matched


@dataclass(frozen=True)
class Category:
    tags: frozenset[str] = field(default_factory=frozenset)  # labels and slugs, lower-cased
    event_slug: str | None = None
    series: frozenset[str] = field(default_factory=frozenset)  # slugs and titles, lower-cased


def tag_names(tags: Any) -> set[str]:
    """Every name a stored tag list answers to: Gamma Tag objects' label and slug, or bare strings."""
    names: set[str] = set()
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, Mapping):
            names |= {str(tag[k]).strip().lower() for k in ("label", "slug") if tag.get(k)}
        elif isinstance(tag, str) and tag.strip():
            names.add(tag.strip().lower())
    return names


def _series_names(series: Any) -> set[str]:
    names: set[str] = set()
    for s in series if isinstance(series, list) else ():
        if isinstance(s, Mapping):
            names |= {str(s[k]).strip().lower() for k in ("slug", "title", "ticker") if s.get(k)}
    return names


_BY_MARKET = """
    select m.condition_id, m.tags, e.tags, e.slug, e.series
    from markets m left join events e on e.event_id = m.event_id
    where m.condition_id = any(%s)"""
_BY_EVENT = (
    "select e.event_id, '[]'::jsonb, e.tags, e.slug, e.series from events e where e.event_id = any(%s)"
)


def load_categories(
    conn: psycopg.Connection, condition_ids: Iterable[str], event_ids: Iterable[str] = ()
) -> tuple[dict[str, Category], dict[str, Category]]:
    """Categories by condition_id and by event_id, for the markets and events that are stored."""
    out: list[dict[str, Category]] = []
    for query, keys in ((_BY_MARKET, condition_ids), (_BY_EVENT, event_ids)):
        wanted = sorted({k for k in keys if k})
        found: dict[str, Category] = {}
        if wanted:
            for key, market_tags, event_tags, slug, series in conn.execute(query, (wanted,)).fetchall():
                found[key] = Category(
                    frozenset(tag_names(market_tags) | tag_names(event_tags)),
                    slug.lower() if slug else None,
                    frozenset(_series_names(series)),
                )
        out.append(found)
    return out[0], out[1]


def attach_categories(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> None:
    """Give each signal row its Category under CATEGORY_KEY (absent: its market is not stored)."""
    by_market, by_event = load_categories(
        conn, (r.get("condition_id") for r in rows), (r.get("event_id") for r in rows)
    )
    for row in rows:
        category = by_market.get(row.get("condition_id") or "") or by_event.get(row.get("event_id") or "")
        if category is not None:
            row[CATEGORY_KEY] = category


KNOWN_TAGS = """
    select label, count(*) from (
        select coalesce(t ->> 'label', t #>> '{}') as label from events, jsonb_array_elements(tags) t
        union all
        select coalesce(t ->> 'label', t #>> '{}') from markets, jsonb_array_elements(tags) t
    ) x where label is not null and label <> '' group by label order by count(*) desc, label limit %s"""


def known_tags(conn: psycopg.Connection, limit: int = 500) -> list[str]:
    """Tag labels seen on stored events and markets, the most used first (the rule form offers them)."""
    return [label for label, _ in conn.execute(KNOWN_TAGS, (limit,)).fetchall()]
