"""Each declared signal (pm_assets/signals/specs.py) has a migrated table with the columns its spec names."""

from __future__ import annotations

import psycopg

from pm_assets.signals.specs import SIGNALS


def test_every_signal_table_is_migrated_with_the_columns_its_spec_names(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        for spec in SIGNALS:
            columns = {
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_name = %s", (spec.table,)
                )
            }
            wanted = {"signal_key", "suppressed_reason", "evidence", "detected_at", spec.time_column}
            wanted |= set(spec.aliases.values())
            wanted |= {"condition_id"} if spec.has_market else set()
            wanted |= {"token_id"} if spec.has_token else set()
            wanted |= {"wallet"} if spec.has_wallet else set()
            wanted |= {"event_id"} if spec.has_event else set()
            assert wanted <= columns, (spec.table, wanted - columns)
