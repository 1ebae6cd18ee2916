"""Batched, crash-safe writes of keyed fills: one transaction per batch, memory bounded by the batch size.

Each batch commits its fills and the payloads quarantined while fetching them together, so a run killed
mid-batch loses only uncommitted work, and a re-run (same fill keys, ON CONFLICT DO NOTHING) ends with the
same rows as an uninterrupted run. A fill the warehouse refuses is isolated from its batch (bisection) and
quarantined; the other fills of the batch are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pm_assets.storage.isolation import quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades import sql
from pm_assets.trades.fill_key import KeyedTrade

DEFAULT_BATCH_SIZE = 5000


@dataclass
class LoadStats:
    fetched: int = 0
    inserted: int = 0
    duplicates: int = 0
    outside_window: int = 0
    batches: int = 0
    quarantined_written: int = 0
    quarantined_rows: int = 0  # fills refused by validation (kept in raw_payloads, not in trades)
    rows_refused_by_database: int = 0  # fills the warehouse refused, isolated from their batch and kept
    loss_events_opened: int = 0
    loss_events_repaired: int = 0

    def as_metadata(self) -> dict[str, int]:
        return {
            "rows_fetched": self.fetched,
            "rows_inserted": self.inserted,
            "rows_skipped_duplicate": self.duplicates,
            "rows_outside_window": self.outside_window,
            "batches": self.batches,
            "quarantined_payloads_written": self.quarantined_written,
            "rows_quarantined": self.quarantined_rows,
            "rows_refused_by_database": self.rows_refused_by_database,
            "loss_events_opened": self.loss_events_opened,
            "loss_events_repaired": self.loss_events_repaired,
        }


@dataclass
class TradeBatchWriter:
    conn: psycopg.Connection
    quarantine: RawPayloadBuffer
    source: str = "data_v2"
    batch_size: int = DEFAULT_BATCH_SIZE
    stats: LoadStats = field(default_factory=LoadStats)
    _rows: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, kt: KeyedTrade) -> None:
        self._rows.append(sql.trade_row(kt, self.source))
        if len(self._rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Commit the buffered fills and quarantined payloads as one transaction."""
        if not self._rows and not self.quarantine.records:
            return
        rows, self._rows = self._rows, []
        refused = quarantine_refused(self.quarantine, "trades", sql.TRADE_COLUMNS)

        def keep_refused(row: Sequence[Any], exc: BaseException) -> None:
            refused(row, exc)
            self.stats.rows_refused_by_database += 1

        try:
            results = write_isolating(
                self.conn, rows, lambda part: sql.write_trades(self.conn, part), keep_refused
            )
            self.stats.quarantined_written += self.quarantine.flush(self.conn)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        self.stats.batches += 1
        self.stats.inserted += sum(r.inserted for r in results)
        self.stats.duplicates += sum(r.skipped for r in results)
