"""The recording format's reader and writer, the recorder's no-duplicates ledger, and small parsers."""

from __future__ import annotations

import orjson
import pytest

from pm_assets.cli.errors import CliError
from pm_assets.cli.record import parse_duration
from pm_assets.cli.replay_run import reason_code
from pm_assets.recording.state import RecordedState, TradeLedger
from pm_sim.recording import Recording, RecordingError, RecordingWriter, observed_market_days

CID = "0x" + "ab" * 32


def fill(tx: str, ts: int, size: float = 10.0) -> dict:
    return {
        "transaction_hash": tx,
        "token_id": "1",
        "proxy_wallet": "0x" + "1" * 40,
        "side": "BUY",
        "price": 0.5,
        "size": size,
        "timestamp": ts,
        "condition_id": CID,
        "name": "",
    }


def test_writer_and_reader_round_trip_objects_untouched(tmp_path):
    obj = {
        "outcomes": '["Yes", "No"]',
        "price": 0.5699998232997013,
        "size": "12.50",
        "nested": {"a": [1, None]},
    }
    with RecordingWriter(tmp_path) as w:
        w.append("gamma_markets", 1.2345678, {"method": "GET", "path": "/markets/keyset"}, obj)
        w.append_frame(2.0, '[{"event_type":"book"}]', connection=1)
    rec = Recording(tmp_path)
    [line] = list(rec.lines("gamma_markets"))
    assert line.object == obj and line.received_at == 1.235 and line.request["path"] == "/markets/keyset"
    [frame] = list(rec.lines("ws_market"))
    assert frame.frame == '[{"event_type":"book"}]' and frame.connection == 1
    assert rec.present() == ["gamma_markets", "ws_market"] and "data_trades" in rec.missing()


def test_a_half_written_line_is_skipped_by_readers_and_cut_by_the_next_writer(tmp_path):
    with RecordingWriter(tmp_path) as w:
        w.append("data_trades", 1.0, None, fill("0xa", 1))
    path = tmp_path / "data_trades.jsonl"
    path.write_bytes(path.read_bytes() + b'{"received_at": 2.0, "obj')
    rec = Recording(tmp_path)
    assert len(list(rec.objects("data_trades"))) == 1 and rec.bad_lines == {"data_trades": 1}
    with RecordingWriter(tmp_path) as w:
        w.append("data_trades", 3.0, None, fill("0xb", 3))
    assert [orjson.loads(x)["object"]["transaction_hash"] for x in path.read_bytes().splitlines()] == [
        "0xa",
        "0xb",
    ]


def test_a_folder_without_recording_or_with_a_newer_format_is_refused(tmp_path):
    with pytest.raises(RecordingError, match="holds no recording"):
        Recording(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "pm-intel-recording", "format_version": 99}')
    with pytest.raises(RecordingError, match="newer than this reader"):
        Recording(tmp_path)


def test_ledger_appends_each_fill_once_across_polls_including_identical_twins():
    ledger = TradeLedger()
    twin = fill("0xt", 100)
    first = ledger.accept(CID, [twin, dict(twin), fill("0xo", 99)], history_floor=50)
    assert len(first) == 3
    # Next poll: a newer fill, the same twins, and a third identical twin that landed in second 100 since.
    second = ledger.accept(CID, [fill("0xn", 101), dict(twin), dict(twin), dict(twin), fill("0xo", 99)], 50)
    assert [r["transaction_hash"] for r in second] == ["0xn", "0xt"]
    assert ledger.accept(CID, [fill("0xn", 101), dict(twin)], 50) == []
    assert ledger.accept("0xother", [fill("0xold", 10)], history_floor=50) == [], "older than the history"


def test_ledger_is_rebuilt_from_the_files(tmp_path):
    with RecordingWriter(tmp_path) as w:
        for row in (fill("0xa", 5), fill("0xb", 7), fill("0xb", 7)):
            w.append("data_trades", 8.0, None, row)
    state = RecordedState.load(Recording(tmp_path))
    assert state.trades.accept(CID, [fill("0xb", 7), fill("0xb", 7), fill("0xa", 5)], 0) == []


def test_market_days_count_each_market_once_a_day(tmp_path):
    day = 1790553600  # 2026-09-28 00:00 UTC
    with RecordingWriter(tmp_path) as w:
        w.append("data_trades", day + 10, None, fill("0xa", day + 5))
        w.append("data_trades", day + 10, None, fill("0xb", day + 86400 + 5))
        book = {"event_type": "book", "market": CID, "asset_id": "1", "timestamp": str((day + 60) * 1000)}
        w.append_frame(day + 60, orjson.dumps(book).decode())
        other = {**book, "market": "0x" + "cd" * 31}  # a Protocol V2 id in Gamma's 62-hex form counts padded
        w.append_frame(day + 60, orjson.dumps([other]).decode())
    assert observed_market_days(Recording(tmp_path)) == {
        (CID, "2026-09-28"),
        (CID, "2026-09-29"),
        ("0x" + "cd" * 31 + "00", "2026-09-28"),
    }


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("90s", 90), ("1h30m", 5400), ("0", 0)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_a_bad_duration_says_how_to_write_one():
    with pytest.raises(CliError, match="use e.g. 30m"):
        parse_duration("soon")


def test_reason_codes():
    assert reason_code("ghost_book: top ask 0.99 with only $0.50 behind it") == "ghost_book"
    assert reason_code("market_closed") == "market_closed"
