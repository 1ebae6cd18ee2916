import psycopg

from pm_assets.storage.raw_payloads import RawPayloadBuffer


def test_quarantined_payloads_are_kept_with_their_error(warehouse_url):
    buffer = RawPayloadBuffer(source="clob", run_id="r1")
    buffer("GET /book", {"token_id": "1"}, 200, '{"bids": [truncated', "response is not valid JSON")
    with psycopg.connect(warehouse_url) as conn:
        assert buffer.flush(conn) == 1
        assert buffer.flush(conn) == 0
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(
            "select endpoint, request->>'token_id', body, error, quarantined from raw_payloads"
        ).fetchone()
    assert row == ("GET /book", "1", '{"bids": [truncated', "response is not valid JSON", True)
