"""`pm-intel replay DIR --json` on a small pm_sim recording: the contract's keys, figures that agree with what
the recording holds, thresholds validated by the catalogue, a throwaway database that leaves the warehouse alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest

from pm_assets.cli.main import main
from pm_assets.cli.replay import table
from pm_assets.signals.specs import SIGNALS
from pm_sim.recording import frame_events, normalize_condition_id
from tests.support.recording import read_lines

TABLES = {spec.table for spec in SIGNALS}  # every declared signal is reported
PER_TABLE = {"alerts", "suppressed", "alerts_per_1k_trades", "alerts_per_market_day"}


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def market_days(folder) -> int:
    """Distinct (market, UTC day) pairs the recording observed, counted from the files themselves."""
    days = {
        (r["condition_id"], _day(r["timestamp"]))
        for r in (x["object"] for x in read_lines(folder, "data_trades"))
    }
    days |= {
        (b["market"], _day(int(b["timestamp"]) / 1000))
        for b in (x["object"] for x in read_lines(folder, "clob_books"))
    }
    for line in read_lines(folder, "ws_market"):
        days |= {(e["market"], _day(int(e["timestamp"]) / 1000)) for e in frame_events(line["frame"])}
    return len({(normalize_condition_id(c), d) for c, d in days})


def replay_json(folder, capsys, *extra: str) -> dict:
    assert main(["replay", str(folder), "--json", *extra]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1, "exactly one JSON object on stdout"
    return json.loads(out)


@pytest.fixture
def throwaway_beside(warehouse_url, monkeypatch):
    """DATABASE_URL names the test's warehouse: the replay must make its own database beside it."""
    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    return warehouse_url


def test_replay_json_gives_the_contract_and_the_recordings_figures(sim_recording, throwaway_beside, capsys):
    folder = sim_recording.folder
    out = replay_json(folder, capsys)
    assert set(out) == {"trades", "markets", "market_days", "signals"}
    assert set(out["signals"]) == TABLES
    trades = read_lines(folder, "data_trades")
    assert out["trades"] == len(trades), "every recorded fill ingested once"
    assert out["markets"] == len({line["object"]["id"] for line in read_lines(folder, "gamma_markets")})
    assert out["market_days"] == market_days(folder) > 0
    for name, figures in out["signals"].items():
        assert set(figures) == PER_TABLE, name
        assert figures["alerts_per_1k_trades"] == round(figures["alerts"] * 1000 / out["trades"], 4)
        assert figures["alerts_per_market_day"] == round(figures["alerts"] / out["market_days"], 4)
        assert all(isinstance(k, str) and ":" not in k and n > 0 for k, n in figures["suppressed"].items())
    with psycopg.connect(throwaway_beside) as conn:
        assert conn.execute("select count(*) from trades").fetchone()[0] == 0, "the warehouse was not touched"
        dbs = conn.execute(
            "select datname from pg_database where datname like 'pm_intel_replay_%'"
        ).fetchall()
    assert dbs == [], "the throwaway database is dropped"
    # Again, as the human table: the same recording gives the same figures.
    assert main(["replay", str(folder)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == table(out)
    assert {line.split()[0] for line in printed.splitlines()[2:]} == TABLES


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("size_anomaly.no_such=1", "size_anomaly has no threshold 'no_such'"),
        ("nonsense.x=1", "unknown signal type 'nonsense'"),
        ("arbitrage.arbitrage_min_edge=-1", "arbitrage.arbitrage_min_edge must be at least 0.0"),
        ("arbitrage_min_edge", "SIGNAL_TYPE.NAME=VALUE"),
    ],
)
def test_thresholds_are_validated_by_the_catalogue(item, says, sim_recording, capsys):
    assert main(["replay", str(sim_recording.folder), "--json", "--threshold", item]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and captured.out == ""


def test_a_folder_that_is_no_recording_is_a_clear_error(tmp_path, capsys):
    assert main(["replay", str(tmp_path), "--json"]) == 2
    assert "holds no recording" in capsys.readouterr().err
