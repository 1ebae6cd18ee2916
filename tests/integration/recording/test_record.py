"""`pm-intel record` against pm_sim: the files follow the contract, and a resumed recording holds every fill
pm_sim emitted for the chosen markets exactly once."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from pm_assets.cli.main import main
from pm_sim.recording import FORMAT, SOURCES, Recording, frame_events
from tests import loopback
from tests.support.recording import line_counts, point_clients_at, read_lines, recorded_fills


def test_recording_files_follow_the_contract(sim_recording):
    folder = sim_recording.folder
    rec = Recording(folder)
    assert rec.missing() == [], "every source was recorded"
    manifest = rec.manifest
    assert manifest["format"] == FORMAT and manifest["format_version"] == 1
    assert manifest["selection"]["top"] == 3 and len(manifest["markets"]) == 3
    assert len(manifest["sessions"]) == 2 and manifest["span"]["start"] <= manifest["span"]["end"]
    assert manifest["lines"] == line_counts(folder)
    tokens = {t for m in manifest["markets"] for t in m["tokens"]}
    cids = {m["condition_id"] for m in manifest["markets"]}
    for source in SOURCES:
        for line in read_lines(folder, source):
            assert isinstance(line["received_at"], float)
            if source == "ws_market":
                assert set(line) == {"received_at", "connection", "frame"} and isinstance(line["frame"], str)
            else:
                assert set(line) == {"received_at", "request", "object"}
                assert line["request"]["method"] in ("GET", "POST")
    # Upstream objects are untouched: each line's object is what pm_sim serves for that request, byte for byte
    # in JSON terms (a book is re-fetched at the same frozen clock).
    book = read_lines(folder, "clob_books")[-1]["object"]
    assert (
        book
        == loopback.get(sim_recording.sim.clob_url + "/book", params={"token_id": book["asset_id"]}).json()
    )
    assert {line["object"]["condition_id"] for line in read_lines(folder, "data_trades")} <= cids
    assert {line["object"]["asset_id"] for line in read_lines(folder, "clob_books")} <= tokens
    first = orjson.loads(read_lines(folder, "ws_market")[0]["frame"])
    assert isinstance(first, list) and {b["event_type"] for b in first} == {"book"}, (
        "the initial dump, as sent"
    )
    assert {
        b["asset_id"] for line in read_lines(folder, "ws_market") for b in frame_events(line["frame"])
    } <= tokens
    params = [line["request"]["params"] for line in read_lines(folder, "clob_prices_history")]
    assert {p["market"] for p in params} <= tokens and all(p["endTs"] > p["startTs"] for p in params)
    wallets = {line["object"]["proxy_wallet"] for line in read_lines(folder, "data_activity")}
    assert wallets, "wallets with a fill over --activity-min-usdc had their activity walked"


def test_resumed_recording_holds_every_emitted_fill_once(sim_recording):
    folder, sim = sim_recording.folder, sim_recording.sim
    first, second = sim_recording.sessions
    assert second["data_trades"] > first["data_trades"], "the resumed session added the 10 new minutes"
    tokens = {t for m in Recording(folder).manifest["markets"] for t in m["tokens"]}
    since = Recording(folder).manifest["history_from"]
    out = loopback.get(sim.admin_url + "/emitted/trades", params={"start": since, "rows": 1}).json()
    emitted = Counter(tuple(r.split("|")[:7]) for r in out["rows"] if r.split("|")[1] in tokens)
    assert recorded_fills(folder) == emitted


def test_resume_with_nothing_new_appends_no_line(sim_recording, recording_copy, monkeypatch):
    point_clients_at(monkeypatch, sim_recording.sim)
    before = line_counts(recording_copy)
    assert main(["record", str(recording_copy), "--duration", "0", "--no-websocket"]) == 0
    after = line_counts(recording_copy)
    # The clock did not move: no trade, activity or Gamma line is new; books are new observations.
    for source in ("data_trades", "data_activity", "gamma_events", "data_resolutions", "clob_prices_history"):
        assert after[source] == before[source], source
    assert after["clob_books"] > before["clob_books"]


def test_resume_refuses_another_selection(sim_recording, recording_copy, monkeypatch, capsys):
    point_clients_at(monkeypatch, sim_recording.sim)
    assert main(["record", str(recording_copy), "--top", "5", "--duration", "0"]) == 2
    assert "already records" in capsys.readouterr().err


def test_partial_last_line_is_cut_before_resuming(sim_recording, recording_copy, monkeypatch):
    """A recorder killed mid-write leaves half a line; the next session cuts it and appends whole lines."""
    path = recording_copy / "clob_books.jsonl"
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"received_at": 17961')
    point_clients_at(monkeypatch, sim_recording.sim)
    assert main(["record", str(recording_copy), "--duration", "0", "--no-websocket"]) == 0
    data = path.read_bytes()
    assert data.startswith(whole) and all(orjson.loads(x) for x in data.splitlines())


def test_progress_is_plain_lines_without_a_terminal(sim_recording, recording_copy, monkeypatch, capsys):
    point_clients_at(monkeypatch, sim_recording.sim)
    assert main(["record", str(recording_copy), "--duration", "0", "--no-websocket"]) == 0
    err = capsys.readouterr().err
    assert "record: round 1" in err and "\r" not in err


@pytest.mark.parametrize("flags", [[], ["--slug", "no-such-market"]])
def test_a_selection_that_names_nothing_is_a_clear_error(flags, sim_recording, tmp_path, monkeypatch, capsys):
    point_clients_at(monkeypatch, sim_recording.sim)
    assert main(["record", str(tmp_path / "new"), *flags, "--duration", "0"]) == 2
    err = capsys.readouterr().err
    assert "choose markets" in err or "no market with slug 'no-such-market'" in err
