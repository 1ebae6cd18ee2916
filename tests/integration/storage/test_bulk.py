"""copy_upsert on plain and partitioned tables: inserts, updates and duplicates counted right, rows once."""

from datetime import UTC, datetime

import psycopg

from pm_assets.storage.bulk import copy_upsert

T = datetime(2026, 11, 20, tzinfo=UTC)


def test_partitioned_table_upsert_counts_inserts_updates_and_duplicates(warehouse_url):
    cols = ("token_id", "ts", "price", "source")
    with psycopg.connect(warehouse_url) as conn:
        first = copy_upsert(
            conn,
            "price_points",
            cols,
            [("1", T, 0.4, "clob"), ("2", T, 0.5, "clob"), ("2", T, 0.5, "clob")],
            key=("token_id", "ts", "source"),
            update=("price",),
        )
        assert (first.staged, first.inserted, first.updated, first.skipped) == (3, 2, 0, 1)
        second = copy_upsert(
            conn,
            "price_points",
            cols,
            [("1", T, 0.45, "clob"), ("2", T, 0.5, "clob"), ("3", T, 0.6, "clob")],
            key=("token_id", "ts", "source"),
            update=("price",),
        )
        assert (second.inserted, second.updated, second.skipped) == (1, 1, 1)
        assert conn.execute("select token_id, price from price_points order by 1").fetchall() == [
            ("1", 0.45),
            ("2", 0.5),
            ("3", 0.6),
        ]


def test_do_nothing_upsert_is_idempotent(warehouse_url):
    cols = ("event_id", "title")
    with psycopg.connect(warehouse_url) as conn:
        assert copy_upsert(conn, "events", cols, [("1", "a"), ("2", "b")], key=("event_id",)).inserted == 2
        again = copy_upsert(conn, "events", cols, [("1", "a"), ("2", "changed")], key=("event_id",))
        assert (again.inserted, again.updated, again.skipped) == (0, 0, 2)
        assert conn.execute("select title from events where event_id = '2'").fetchone() == ("b",)
