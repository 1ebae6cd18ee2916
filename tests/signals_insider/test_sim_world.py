"""A small pm_sim world through the ingestion assets and every insider signal, scored against its ground truth."""

from __future__ import annotations

from bench.bench_signals import evaluate_world, sim_options
from pm_sim.testing import running_sim
from tests.signals_insider.test_pipeline import assert_every_row_recomputes


def test_small_world_is_detected_without_letting_noise_through(warehouse_url):
    with running_sim(**sim_options(seed=3, markets=30, history_hours=4.0, tps=1.0, live_hours=0.2)) as sim:
        out = evaluate_world(sim, warehouse_url, live_steps=1, step_s=600)
    scores = out["signals"]
    print(
        {
            t: {k: s.get(k) for k in ("precision", "recall", "alerts_per_event", "noise_passed")}
            for t, s in scores.items()
        }
    )
    fresh, clusters = scores["fresh_wallet_trades"], scores["wallet_clusters"]
    # Three planted insiders and three coordinated entries at this size: sanity bounds, the goals live in bench/.
    assert fresh["target_events"] >= 2 and fresh["recall"] >= 0.6
    assert fresh["noise_passed"] == 0 and scores["size_anomalies"]["noise_passed"] == 0
    assert fresh["alerts_per_event"] <= 1.5
    # Alerts on unplanted flow per 1,000 unplanted trades: the alerts that match no planted true event.
    for table in ("fresh_wallet_trades", "size_anomalies", "wallet_clusters"):
        t = scores[table]
        assert t["background_trades"] > 0 and t["background_trades"] < out["counts"]["trades"]
        assert t["alerts_per_1k_background_trades"] == round(
            1000 * (t["alerts"] - t["true_positives"]) / t["background_trades"], 4
        )
    assert clusters["target_events"] >= 2 and clusters["recall"] >= 0.5 and clusters["precision"] >= 0.5
    assert assert_every_row_recomputes(warehouse_url) >= fresh["alerts"] + clusters["alerts"]
