"""pm_sim's background flow and books reproduce the real figures of ../shared/real-flow.md.

The figures are measured on pm_sim's own output (its flow generator's rows, its REST /book, its websocket) and
held to the tolerances of pm_sim/README.md ("Background flow is fitted to real data", from
pm_sim.flow_measure.REAL). Deterministic seeds; nothing here depends on wall-clock time.
"""

from __future__ import annotations

import json
import statistics

import pytest

from pm_sim import flow_measure
from pm_sim.books import epoch, epoch_time, token_epoch
from pm_sim.config import SimConfig
from pm_sim.ground_truth import PLANT_BASE
from pm_sim.sim import Sim
from pm_sim.testing import running_sim
from pm_sim.world import SIBLING_MAX_LAG
from tests import loopback
from tests.support.sim import drain, wait_synced, ws_session


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return flow_measure.fitted_figures()


@pytest.mark.parametrize("name", list(flow_measure.REAL))
def test_background_flow_matches_the_real_figure(figures, name):
    real, (lo, hi), what = flow_measure.REAL[name]
    assert lo <= figures[name] <= hi, (
        f"{name} ({what}): pm_sim {figures[name]:.3f}, real {real}, allowed {lo}-{hi}"
    )


def test_the_flow_is_deterministic_per_seed():
    def rows(seed: int) -> list[tuple]:
        sim = Sim(
            SimConfig(seed=seed, markets=40, history_hours=1.0, horizon_hours=1.0, trades_per_second=3.0)
        )
        return flow_measure.background_rows(sim)

    first = rows(4)
    assert len(first) > 1000 and first == rows(4) and first != rows(5)


def test_a_fresh_wallet_is_born_before_its_fills_and_its_address_leads_back_to_it():
    sim = Sim(SimConfig(seed=2, markets=40, history_hours=2.0, horizon_hours=1.0, trades_per_second=3.0))
    w = sim.world
    fresh = [r for r in flow_measure.background_rows(sim) if r[3] >= 1 << 40]
    assert fresh
    from pm_sim.data_api import _wallet

    for r in fresh[:: max(1, len(fresh) // 200)]:
        age = r[0] / 1000 - w.wallet_first_activity(r[3])
        assert 0 <= age < 86_400
        assert _wallet(sim, w.wallet_address(r[3])) == r[3]


def test_planted_insiders_enter_a_longshot_with_a_size_background_flow_also_has():
    """As the reported cases: a new wallet buys the outcome priced against the favourite, hours before; its size
    is one real background flow also produces (so size alone does not give it away)."""
    sim = Sim(SimConfig(seed=3, markets=100, history_hours=6.0, horizon_hours=6.0, trades_per_second=2.0))
    w = sim.world
    insiders = [r for r in sim.truth if r["kind"] == "fresh_wallet_insider"]
    assert len(insiders) >= 3
    rows = sim.flow.iter_rows(int(w.horizon_end * 1000), int(w.history_start * 1000))
    biggest = max(r[6] * r[7] for r in rows if r[2] < 2 * PLANT_BASE)
    for rec in insiders:
        assert rec["entry_price"] < 0.5 and rec["payoff"] > 1
        assert 1 <= rec["wallet_age_hours"] <= 12
        assert rec["size_usdc"] < biggest


def _side(book: dict, key: str) -> dict[float, float]:
    return {round(float(x["price"]), 4): float(x["size"]) for x in book[key]}


def _mirror(yes: dict, no: dict) -> bool:
    """NO bids = 1 - YES asks and NO asks = 1 - YES bids, same sizes."""
    flip = {round(1 - p, 4): s for p, s in _side(yes, "asks").items()}
    flip_a = {round(1 - p, 4): s for p, s in _side(yes, "bids").items()}
    return flip == _side(no, "bids") and flip_a == _side(no, "asks")


def test_binary_books_are_mirrors_whose_second_token_shows_each_update_later():
    """REST /book: right after the first token's update the second still shows the previous book (a stale
    sibling, up to 2.6 s old); once its lag has passed the two are mirrors again, their top asks summing a
    little above 1 (real: 1.0098 on average)."""
    with running_sim(seed=6, markets=30, ws_rate=30, speed=0) as s:
        w = s.world
        now = loopback.get(s.admin_url + "/state").json()["now"]
        binaries = [
            m
            for m in w.markets
            if m.has_book
            and not m.ghost
            and not m.neg_risk
            and m.created_at < now
            and m.close_time > now + 600
        ]
        binaries = [m for m in binaries if not w.arb_windows.get(m.idx)][:6]
        assert len(binaries) >= 3
        sums = []
        stale_seen = 0
        for m in binaries:
            assert 0 < m.sibling_lag <= SIBLING_MAX_LAG and m.sibling_lag < m.book_period

            def books(at: float, m=m) -> tuple[dict, dict]:
                loopback.post(s.admin_url + "/clock", json={"set": at})
                yes, no = (
                    loopback.get(s.clob_url + "/book", params={"token_id": t}).json() for t in m.token_ids
                )
                return yes, no

            for k in range(1, 40):  # an update whose book differs from the one before
                boundary = epoch_time(m, epoch(m, now) + k)
                before_yes, _ = books(boundary - 1e-3)
                just_after_yes, just_after_no = books(boundary + m.sibling_lag / 2)
                if _side(before_yes, "bids") != _side(just_after_yes, "bids") or _side(
                    before_yes, "asks"
                ) != _side(just_after_yes, "asks"):
                    break
            assert (
                token_epoch(m, 1, boundary + m.sibling_lag / 2)
                == token_epoch(m, 0, boundary + m.sibling_lag / 2) - 1
            )
            assert _mirror(before_yes, just_after_no) and not _mirror(just_after_yes, just_after_no)
            stale_seen += 1
            yes, no = books(boundary + m.sibling_lag + 1e-3)
            assert _mirror(yes, no)
            sums.append(min(_side(yes, "asks")) + min(_side(no, "asks")))
        assert stale_seen == len(binaries)
        assert all(x > 1 for x in sums) and 1.0 < statistics.fmean(sums) < 1.03


def test_websocket_deltas_of_the_two_tokens_arrive_at_different_moments():
    """The market channel sends each token's price_change when that token's book moves: the second token's
    come sibling_lag later, stamped with their own time."""
    with running_sim(seed=6, markets=30, ws_rate=30, speed=0) as s:
        w = s.world
        now = loopback.get(s.admin_url + "/state").json()["now"]
        m = next(
            m
            for m in w.markets
            if m.has_book
            and not m.ghost
            and m.created_at < now
            and m.close_time > now + 600
            and not w.arb_windows.get(m.idx)
            and m.sibling_lag > 0.2
        )
        ws = ws_session(s, list(m.token_ids), custom=False)
        json.loads(ws.recv(timeout=loopback.HANG_S))
        frames: list[dict] = []
        step = min(0.05, m.sibling_lag / 4)
        for _ in range(int(4 * m.book_period / step)):
            ws.send("PING")
            t = s.advance(step)["now"]
            wait_synced(s, t)
            frames += [f for f in drain(ws, quiet=0.02) if isinstance(f, dict)]
        ws.close()
        changes = [f for f in frames if f.get("event_type") == "price_change"]
        stamps = {
            a: sorted({int(f["timestamp"]) for f in changes if f["price_changes"][0]["asset_id"] == a})
            for a in m.token_ids
        }
        assert all(len({ch["asset_id"] for ch in f["price_changes"]}) == 1 for f in changes)
        yes, no = stamps[m.token_ids[0]], stamps[m.token_ids[1]]
        assert yes and no and not set(yes) & set(no)
        # Each NO delta follows a YES one by the lag (to one stream step).
        for ts in no:
            prior = [y for y in yes if y <= ts]
            if prior:
                assert abs((ts - prior[-1]) / 1000 - m.sibling_lag) <= step + 0.01
