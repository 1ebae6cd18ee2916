import psycopg

from tests.support.apptest import frame_with, open_page, texts, widget


def test_rankings(world):
    at = open_page("wallets")
    with psycopg.connect(world.url) as conn:
        top = conn.execute("select wallet from wallets order by volume_usdc desc limit 1").fetchone()[0]
    assert frame_with(at, "volume_usdc").iloc[0]["wallet"] == top
    widget(at, "radio", "Rank by").set_value("novelty").run()
    assert frame_with(at, "volume_usdc").iloc[0]["wallet"] == world.fresh_wallet
    widget(at, "radio", "Rank by").set_value("signals").run()
    ranked = frame_with(at, "signals")
    # fw-1 (fresh_wallet_trades) and sa-1 (size_anomalies): counted across every wallet signal table.
    assert ranked.iloc[0]["wallet"] == world.fresh_wallet and ranked.iloc[0]["signals"] == 2


def test_wallet_drilldown(world):
    at = open_page("wallets", wallet=world.fresh_wallet)
    assert world.fresh_wallet in [h.value for h in at.header]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trades"] == "1" and metrics["Volume"] == "$48,200"
    assert metrics["Age"] == "3 h ago"
    positions = frame_with(at, "net_size")
    assert positions["market"].tolist() == ["Will Bitcoin close above $150k on December 31?"]
    assert abs(positions.iloc[0]["net_size"] - 401666.67) < 1e-6
    page = texts(at)
    assert "**Fresh-wallet trades**: 1" in page and "**Size anomalies**: 1" in page
    assert "None of this wallet's signals has been scored yet" in page


def test_wallet_scorecard_after_resolution(world):
    at = open_page("wallets", wallet=world.wallets[10])
    assert "0 of 1 scored signals were right." in texts(at)
    assert frame_with(at, "paper_profit").iloc[0]["paper_profit"] == -100


def test_bad_address_is_refused(world):
    at = open_page("wallets")
    widget(at, "text_input", "Open a wallet").input("0x1234'; drop table wallets").run()
    assert "A wallet address is 0x followed by 40 hexadecimal characters." in texts(at)
    widget(at, "text_input", "Open a wallet").input("0x" + "ab" * 20).run()
    assert f"No wallet {'0x' + 'ab' * 20} in the warehouse." in texts(at)


def test_wallet_trades_download_and_the_api_export_path(world, monkeypatch):
    import csv
    import io

    import streamlit

    exported: dict[str, bytes] = {}
    real = streamlit.download_button

    def recording(label, data, *args, **kwargs):
        exported[kwargs["file_name"]] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    monkeypatch.setenv("PM_INTEL_API_URL", "http://127.0.0.1:8502")
    at = open_page("wallets", wallet=world.fresh_wallet)
    rows = list(csv.DictReader(io.StringIO(exported[f"trades_{world.fresh_wallet}.csv"].decode())))
    assert len(rows) == 1 and f"trades_{world.fresh_wallet}.parquet" in exported
    assert any(f"/v1/wallets/{world.fresh_wallet}/trades/export" in c.value for c in at.caption)
