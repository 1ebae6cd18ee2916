"""CSV and Parquet exports: every selected row, formula cells neutralised, streamed in batches."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import psycopg
import pyarrow.parquet as pq

from dashboards.api import exports
from dashboards.api import queries as q
from dashboards.api.signal_tables import by_name
from tests.support.api import ApiWorld


def _plant_hostile_trade(api: ApiWorld) -> str:
    """A trade whose outcome text a spreadsheet would run as a formula."""
    market, wallet = api.world.busy_market, api.world.fresh_wallet
    token = api.world.tokens[market][0]
    with psycopg.connect(api.url, autocommit=True) as conn:
        conn.execute(
            "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price,"
            " size, outcome, source) values (%s, 'hostile-fill', %s, %s, %s, %s, 'BUY', 0.5, 10, %s, 'test')",
            (
                api.world.now - timedelta(minutes=1),
                "0x" + "ab" * 32,
                token,
                market,
                wallet,
                '=HYPERLINK("x")',
            ),
        )
    return market


def test_csv_export_of_a_market_holds_every_trade_with_formulas_neutralised(api: ApiWorld):
    market = _plant_hostile_trade(api)
    response = api.get(f"/v1/markets/{market}/trades/export", format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    with psycopg.connect(api.url) as conn:
        expected = [
            r[0]
            for r in conn.execute(
                "select fill_key from trades where condition_id = %s order by traded_at desc, fill_key desc",
                (market,),
            )
        ]
    assert [r["fill_key"] for r in rows] == expected
    hostile = next(r for r in rows if r["fill_key"] == "hostile-fill")
    assert hostile["outcome"] == '\'=HYPERLINK("x")'
    assert float(hostile["price"]) == 0.5 and hostile["is_taker"] == "true"


def test_parquet_export_of_a_signal_query_reads_back_with_typed_columns(api: ApiWorld):
    since = (api.world.now - timedelta(days=2)).isoformat()
    response = api.get("/v1/signals/fresh_wallet/export", format="parquet", since=since, suppressed="hide")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    page = api.get("/v1/signals/fresh_wallet", since=since, suppressed="hide", limit=1000).json()["items"]
    assert table.column("signal_key").to_pylist() == [i["signal_key"] for i in page] and page
    assert str(table.schema.field("traded_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("usdc_size").type) == "double"
    assert all(s is None for s in table.column("suppressed_reason").to_pylist())
    assert [json.loads(e) for e in table.column("evidence").to_pylist()] == [i["evidence"] for i in page]


def test_an_export_with_no_rows_is_a_valid_empty_file(api: ApiWorld):
    later = (api.world.now + timedelta(days=1)).isoformat()
    parquet = api.get("/v1/signals/arbitrage/export", format="parquet", since=later)
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 0
    text = api.get("/v1/signals/arbitrage/export", since=later).text
    assert text.splitlines()[0].startswith("signal_key") and len(text.splitlines()) == 1


def test_rows_leave_in_batches_and_parquet_row_groups_match_them(api: ApiWorld):
    market = api.world.busy_market
    listing = q.trades("condition_id")
    listing.equal("condition_id", market)
    engine = api.client.app.state.engine
    batches = list(exports.rows_in_batches(engine, listing.statement(None), listing.params, batch=7))
    total = sum(len(rows) for _cols, rows in batches)
    assert total > 14 and len(batches) == total // 7 + 1
    assert all(len(rows) == 7 for _cols, rows in batches[:-1])
    chunks = list(
        exports.parquet_stream(
            exports.rows_in_batches(engine, listing.statement(None), listing.params, batch=7),
            row_group_rows=14,
        )
    )
    assert len(chunks) >= total // 14  # bytes leave as each row group is written, not at the end
    parquet = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert parquet.metadata.num_rows == total and parquet.metadata.num_row_groups == -(-total // 14)
    assert all(parquet.metadata.row_group(i).num_rows == 14 for i in range(total // 14))
    csv_chunks = list(
        exports.csv_stream(exports.rows_in_batches(engine, listing.statement(None), listing.params, batch=7))
    )
    assert len(csv_chunks) == len(batches)


def test_signal_csv_header_and_json_cells(api: ApiWorld):
    kind = by_name("wallet_cluster")
    assert kind is not None
    rows = list(csv.DictReader(io.StringIO(api.get("/v1/signals/wallet_cluster/export").text)))
    assert rows and rows[0]["wallets"].startswith('["0x') and rows[0]["evidence"].startswith("{")
    assert kind.time_column in rows[0]
