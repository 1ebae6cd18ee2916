"""The warehouse schema on a real PostgreSQL: walk every revision up and down, re-run, roles, partitions."""

from __future__ import annotations

import psycopg
import pytest
from alembic.script import ScriptDirectory

from pm_assets.storage import migrate


def _schema_fingerprint(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            select c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod)
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
            left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            order by 1, 3
            """
        ).fetchall()


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql://x@/y"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_walk_every_revision_up_and_down(fresh_database):
    revisions = _revisions()
    assert revisions[0] == "0001"
    for rev in revisions:
        migrate.upgrade(fresh_database, rev)
        assert migrate.status(fresh_database).current == rev
    at_head = _schema_fingerprint(fresh_database)
    for rev in reversed(revisions[:-1]):
        migrate.downgrade(fresh_database, rev)
        assert migrate.status(fresh_database).current == rev
    migrate.downgrade(fresh_database, "base")
    assert migrate.status(fresh_database).current is None
    leftover = [
        row for row in _schema_fingerprint(fresh_database) if not row[0].startswith("pm_intel_schema_version")
    ]
    assert leftover == []
    migrate.upgrade(fresh_database)
    assert _schema_fingerprint(fresh_database) == at_head


def test_rerunning_upgrade_is_a_no_op(warehouse_url):
    before = _schema_fingerprint(warehouse_url)
    migrate.upgrade(warehouse_url)
    assert _schema_fingerprint(warehouse_url) == before
    state = migrate.status(warehouse_url)
    assert state.up_to_date and state.pending == []


def test_status_reports_drift_for_an_unknown_revision(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("update pm_intel_schema_version set version_num = '9999_from_the_future'")
    state = migrate.status(warehouse_url)
    assert state.unknown and not state.up_to_date


def test_read_only_role_cannot_write_or_read_webhook_secrets(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into alert_rules (name, signal_type, destination_kind, webhook_url) "
            "values ('r', 'fresh_wallet_trades', 'json', 'https://hooks.example/secret')"
        )
        conn.commit()
        conn.execute("set role pm_intel_reader")
        assert conn.execute("select count(*) from markets").fetchone()[0] == 0
        assert conn.execute("select name from alert_rules").fetchone() == ("r",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select webhook_url from alert_rules")
        conn.rollback()
        conn.execute("set role pm_intel_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into events (event_id) values ('1')")
        conn.rollback()
        conn.execute("set role pm_intel_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from trades")


def test_editor_role_writes_rules_and_thresholds_only(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("set role pm_intel_editor")
        conn.execute(
            "insert into threshold_overrides (signal_type, name, value) values ('fresh_wallet_trades', 'min_usdc', '5000')"
        )
        conn.execute("update threshold_overrides set value = '6000'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update markets set question = 'x'")


def test_condition_ids_are_only_stored_in_the_66_character_form(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into markets (condition_id, version) values "
                "('0x017089ce3ba22aaa0a4cba8250b8c8e1eb0000000000000000000000000000', 'v2')"
            )


def test_time_series_tables_are_partitioned_ahead(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        parents = {
            r[0]
            for r in conn.execute(
                "select c.relname from pg_partitioned_table p join pg_class c on c.oid = p.partrelid"
            )
        }
        assert {
            "trades",
            "price_points",
            "order_book_snapshots",
            "ws_price_changes",
            "raw_payloads",
        } <= parents
        ahead = conn.execute(
            "select count(*) from pg_inherits i join pg_class c on c.oid = i.inhrelid "
            "where i.inhparent = 'trades'::regclass and c.relname = "
            "'trades_p' || to_char(now() + interval '5 months', 'YYYYMM')"
        ).fetchone()[0]
        assert ahead == 1
        assert conn.execute("select pm_ensure_all_partitions(8)").fetchone()[0] > 0
        assert conn.execute("select pm_ensure_all_partitions(8)").fetchone()[0] == 0
        conn.execute(
            "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size, source)"
            " values (now() + interval '7 months', 'k', '0x1', '1', '0x' || repeat('a', 64), '0x' || repeat('b', 40),"
            " 'BUY', 0.5, 10, 'test')"
        )
        assert (
            conn.execute("select tableoid::regclass::text from trades where fill_key = 'k'")
            .fetchone()[0]
            .startswith("trades_p")
        )
