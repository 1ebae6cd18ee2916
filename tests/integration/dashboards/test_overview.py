import psycopg

from tests.support.apptest import open_page, texts


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_overview_figures_match_the_warehouse(world):
    at = open_page()
    with psycopg.connect(world.url) as conn:
        trades, volume, wallets = conn.execute(
            "select count(*), sum(usdc_size), count(distinct wallet) from trades"
            " where traded_at >= now() - interval '24 hours'"
        ).fetchone()
        live = conn.execute("select count(*) from arbitrage_windows where closed_at is null").fetchone()[0]
        top = conn.execute(
            "select m.question from market_rankings r join markets m using (condition_id)"
            " where ranked_at = (select max(ranked_at) from market_rankings) order by rank limit 1"
        ).fetchone()[0]
    assert trades > 0
    assert _metric(at, "Trades, last 24 h") == f"{trades:,}"
    assert _metric(at, "Volume, last 24 h") == f"${volume:,.0f}"
    assert _metric(at, "Active wallets, last 24 h") == f"{wallets:,}"
    assert _metric(at, "Live arbitrage windows") == str(live) == "1"
    rankings = at.dataframe[0].value
    assert rankings.iloc[0]["question"] == top == "Will the Republicans control the Senate?"
    assert rankings.iloc[0]["polymarket"] == "https://polymarket.com/event/us-senate-2026-control"


def test_overview_shows_every_signal_kind_in_words_and_freshness_from_tables(world):
    at = open_page()
    assert [t.label for t in at.tabs] == [
        "Fresh-wallet trades",
        "Arbitrage windows",
        "Price and volume spikes",
        "Size anomalies",
        "Wallet clusters",
        "Watched-wallet trades",
    ]
    words = "\n".join(
        str(v) for df in at.dataframe if "evidence_words" in df.value for v in df.value["evidence_words"]
    )
    assert "wallet first active 3 h before this $48,200 buy of Yes at 0.12" in words
    assert "price moved from 0.30 to 0.52 (+22.0 pts)" in words
    assert "the event's YES asks summed to 0.969 (edge 3.1 pts), still open; $1,200 fillable" in words
    assert "$48,200 buy of Yes at 0.12, 51% of the market's 24h volume, 80% of the book's depth" in words
    assert "3 wallets put $36,000 on Yes within 20 min" in words
    assert "watched wallet (list Whales) bought Yes at 0.12: $48,200" in words
    # A suppressed signal is not on the overview.
    assert "senate-other" not in words and "$11,000" not in words
    assert "newest row of each table instead" in texts(at)
    fresh = next(df.value for df in at.dataframe if "asset" in df.value)
    assert set(fresh["asset"]) >= {"trades", "markets", "order_book_snapshots", "market_rankings"}
    assert fresh.set_index("asset").loc["trades", "last_update"] is not None


def test_overview_reads_dagster_storage_when_reachable(world, monkeypatch, pg_server_url):
    """DAGSTER_PG_URL pointing at a database with Dagster's asset_keys table switches the freshness source."""
    with psycopg.connect(world.url) as conn:
        conn.execute(
            "create table asset_keys (asset_key text, last_materialization_timestamp timestamp,"
            " last_run_id text, wipe_timestamp timestamp)"
        )
        conn.execute("insert into asset_keys values ('[\"trades\"]', now(), 'run-9', null)")
        conn.commit()
    monkeypatch.setenv("DAGSTER_PG_URL", world.url.replace("postgresql://", "postgresql+psycopg2://", 1))
    at = open_page()
    assert "From Dagster's materialization records." in texts(at)
    fresh = next(df.value for df in at.dataframe if "asset" in df.value)
    assert fresh["asset"].tolist() == ["trades"]
    at = open_page("pipeline")
    fresh = next(df.value for df in at.dataframe if "asset" in df.value)
    assert fresh["last_run_id"].tolist() == ["run-9"]
    assert fresh["dagster"].tolist() == ["http://127.0.0.1:3000/assets/trades"]


def test_refresh_button_clears_the_cached_figures(world):
    at = open_page()
    assert _metric(at, "Live arbitrage windows") == "1"
    with psycopg.connect(world.url) as conn:
        conn.execute(
            "insert into arbitrage_windows (signal_key, kind, event_id, opened_at, peak_edge, evidence)"
            " values ('arb-new', 'negrisk_bid', '9001', now(), 0.02, '{}')"
        )
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert _metric(at, "Live arbitrage windows") == "2"
