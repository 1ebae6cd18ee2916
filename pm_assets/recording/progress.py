"""The recorder's progress: a bar on a terminal (tqdm), one plain line per round otherwise (logs, CI)."""

from __future__ import annotations

import sys
from typing import IO

from pm_assets.recording.recorder import Progress

SHORT = {
    "data_trades": "trades",
    "clob_books": "books",
    "ws_market": "frames",
    "gamma_markets": "markets",
    "gamma_events": "events",
    "data_resolutions": "resolutions",
    "data_activity": "activity",
    "clob_prices_history": "price windows",
}


def describe(lines: dict[str, int]) -> str:
    return ", ".join(f"{SHORT.get(k, k)} {v:,}" for k, v in sorted(lines.items()) if v)


class ProgressDisplay:
    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._bar = None

    def __call__(self, p: Progress, round_done: bool) -> None:
        total = max(p.planned_end - p.started, 0.0)
        elapsed = min(max(p.now - p.started, 0.0), total)
        if self.tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=round(total), unit="s", file=self.stream, desc="record", leave=True)
            self._bar.n = round(elapsed)
            self._bar.set_postfix_str(f"round {p.rounds}; {describe(p.lines)}", refresh=True)
        elif round_done:
            print(
                f"record: round {p.rounds}, {elapsed:.0f}/{total:.0f} s: {describe(p.lines) or 'nothing new'}"
                + (f" ({p.errors} failed step(s), retried)" if p.errors else ""),
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
