"""A small recording of pm_sim (frozen clock), made once per session through `pm-intel record`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pm_assets.cli.main import main
from pm_sim.testing import running_sim
from tests.support.recording import RECORD, SIM, SimRecording, line_counts, point_clients_at


@pytest.fixture(scope="session")
def sim_recording(tmp_path_factory: pytest.TempPathFactory):
    """Record 3 markets of a frozen pm_sim, advance its clock 10 minutes, record again (a resume)."""
    folder = tmp_path_factory.mktemp("rec") / "sim"
    with running_sim(**SIM) as sim, pytest.MonkeyPatch.context() as mp:
        point_clients_at(mp, sim)
        sessions = []
        assert main(["record", str(folder), *RECORD, "--duration", "0"]) == 0
        sessions.append(line_counts(folder))
        sim.advance(600)
        assert main(["record", str(folder), "--duration", "0"]) == 0
        sessions.append(line_counts(folder))
        yield SimRecording(folder, sim, sessions)


@pytest.fixture
def recording_copy(sim_recording: SimRecording, tmp_path: Path) -> Path:
    """A copy of the sim recording a test may change."""
    dst = tmp_path / "copy"
    shutil.copytree(sim_recording.folder, dst)
    return dst
