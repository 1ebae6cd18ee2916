"""Which outcome ids the stream watches, read from the `markets` / `tokens` tables.

Tokens of both generations (CTF token ids and Protocol V2 position ids) live in one `tokens` table, and the
market channel takes either in `assets_ids` (polymarket-api.md L.1), so the selection never looks at version.
"""

from __future__ import annotations

import psycopg

from .settings import StreamSettings

ACTIVE_TOKENS = """
    select t.token_id from tokens t join markets m using (condition_id)
    where coalesce(m.closed, false) = false and coalesce(m.active, true) and coalesce(m.archived, false) = false
      and coalesce(m.enable_order_book, true) and coalesce(t.has_book, true) and m.resolved_at is null
    order by t.token_id
"""

TOP_TOKENS = """
    with top as (
        select m.condition_id from markets m
        where coalesce(m.closed, false) = false and coalesce(m.active, true) and coalesce(m.archived, false) = false
          and coalesce(m.enable_order_book, true) and m.resolved_at is null
        order by m.volume_24h desc nulls last, m.volume desc nulls last, m.condition_id
        limit %s
    )
    select t.token_id from tokens t join top using (condition_id) where coalesce(t.has_book, true)
    order by t.token_id
"""


def selected_tokens(conn: psycopg.Connection, settings: StreamSettings) -> list[str]:
    """The asset ids to subscribe, per the selection mode."""
    if settings.selection == "list":
        return list(dict.fromkeys(settings.tokens))
    if settings.selection == "top":
        rows = conn.execute(TOP_TOKENS, (settings.top_n,)).fetchall()
    else:
        rows = conn.execute(ACTIVE_TOKENS).fetchall()
    return [r[0] for r in rows]


def subscription_batches(tokens: list[str], batch: int) -> list[list[str]]:
    return [tokens[i : i + batch] for i in range(0, len(tokens), batch)]
