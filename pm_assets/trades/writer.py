"""Batched, crash-safe writes of keyed fills: one transaction per batch, memory bounded by the batch size.

Each batch commits its fills and the payloads quarantined while fetching them together, so a run killed
mid-batch loses only uncommitted work, and a re-run (same fill keys, ON CONFLICT DO NOTHING) ends with the
same rows as an uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

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
        try:
            result = sql.write_trades(self.conn, rows)
            self.stats.quarantined_written += self.quarantine.flush(self.conn)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        self.stats.batches += 1
        self.stats.inserted += result.inserted
        self.stats.duplicates += result.skipped
