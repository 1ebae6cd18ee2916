"""The live run's market-signals task runs each market signal through the function its asset runs, under the
saved thresholds, and one signal failing on its thresholds costs the other nothing."""

from __future__ import annotations

import dagster as dg
import psycopg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import thresholds
from pm_sensors.live.periodic import LiveResources, market_signals


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)

    def warning(self, msg: str) -> None:
        self.lines.append("WARNING " + msg)


def _resources(url: str, log: _Log) -> LiveResources:
    return LiveResources(WarehouseResource(database_url=url), None, None, None, log)  # type: ignore[arg-type]


def test_market_signals_report_the_saved_thresholds_and_move_their_watermarks(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        thresholds.save_overrides(conn, "price_spike", {"spike_min_move_points": 0.2}, "test")
        conn.execute(
            "insert into price_points (token_id, ts, price) values ('1', now() - interval '5 minutes', 0.4),"
            " ('1', now(), 0.45)"
        )
    out = market_signals(_resources(warehouse_url, _Log()))
    assert set(out) == {"arbitrage_windows", "price_spikes"}
    assert (
        out["price_spikes"]["thresholds"]["spike_min_move_points"] == 0.2
    )  # the saved value, not the default
    assert out["arbitrage_windows"]["reason"] == "no book ticks stored"
    with psycopg.connect(warehouse_url) as conn:
        marks = dict(conn.execute("select name, complete_through from ingestion_cursors").fetchall())
    assert marks.get("signal:price_spikes") is not None


def test_a_signal_failing_on_its_thresholds_is_skipped_with_the_reason_and_the_other_goes_on(
    warehouse_url, monkeypatch
):
    monkeypatch.setenv("PM_INTEL_ARBITRAGE_MIN_EDGE", "lots")
    log = _Log()
    out = market_signals(_resources(warehouse_url, log))
    assert set(out) == {"price_spikes"}
    skipped = [line for line in log.lines if line.startswith("WARNING arbitrage_windows: skipped")]
    assert len(skipped) == 1 and "PM_INTEL_ARBITRAGE_MIN_EDGE" in skipped[0], log.lines
    assert isinstance(out["price_spikes"]["spikes"], int)
    assert not isinstance(out["price_spikes"]["thresholds"], dg.MetadataValue)  # plain values, as runs report
