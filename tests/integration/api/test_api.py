"""The API through its routes: tokens, read-only verbs, filters and keyset pages against the tables' own rows."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import psycopg
import pytest

from dashboards.api import tokens
from dashboards.api.signal_tables import signal_tables
from tests.support.api import ApiWorld


def _routes(api: ApiWorld) -> list[str]:
    """Every GET path of the OpenAPI document, with its path parameters filled from the seeded world."""
    market, wallet = api.world.busy_market, api.world.fresh_wallet
    paths = []
    for path in api.client.get("/openapi.json").json()["paths"]:
        paths.append(
            path.replace("{signal_type}", "fresh_wallet")
            .replace("{condition_id}", market)
            .replace("{wallet}", wallet)
            .replace("{watchlist_id}", str(api.watchlist_id))
        )
    return paths


def test_every_v1_route_answers_401_without_a_valid_token(api: ApiWorld):
    routes = [p for p in _routes(api) if p.startswith("/v1/")]
    assert len(routes) >= 12
    for path in routes:
        for headers in (
            {},
            {"Authorization": "Bearer pmi_not-a-token"},
            {"Authorization": f"Basic {api.token}"},
        ):
            response = api.client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"
        assert api.client.get(path, headers=api.auth).status_code == 200, path


def test_a_revoked_token_is_refused_and_only_its_hash_is_stored(api: ApiWorld):
    with psycopg.connect(api.url, autocommit=True) as conn:
        token_id, token = tokens.create_token(conn, "to revoke")
        stored = conn.execute(
            "select token_hash, prefix from api_tokens where token_id = %s", (token_id,)
        ).fetchone()
        assert stored == (hashlib.sha256(token.encode()).hexdigest(), token[:10])
        dump = conn.execute("select string_agg(t::text, ' ') from api_tokens t").fetchone()[0]
        assert token not in dump and token[10:] not in dump
        headers = {"Authorization": f"Bearer {token}"}
        assert api.client.get("/v1/signals", headers=headers).status_code == 200
        assert tokens.revoke_token(conn, token_id)
    assert api.client.get("/v1/signals", headers=headers).status_code == 401


def test_no_write_verb_is_served(api: ApiWorld):
    for path in _routes(api):
        for verb in ("POST", "PUT", "PATCH", "DELETE"):
            response = api.client.request(verb, path, headers=api.auth)
            assert response.status_code == 405, (verb, path, response.status_code)


def test_the_api_reads_as_the_reader_role_in_read_only_transactions(api: ApiWorld):
    with api.client.app.state.engine.connect() as conn:
        pg = conn.connection.driver_connection
        user, read_only, timeout = pg.execute(
            "select current_user, current_setting('transaction_read_only'), current_setting('statement_timeout')"
        ).fetchone()
        assert (user, read_only, timeout) == ("pm_intel_reader", "on", "30s")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            pg.execute("create temp table nope (x int)")


def _walk(api: ApiWorld, path: str, limit: int, **params) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        response = api.get(path, limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert pages < 10_000


@pytest.mark.parametrize("kind", signal_tables(), ids=lambda k: k.signal_type)
def test_signal_pages_walk_every_row_once_newest_first(api: ApiWorld, kind):
    items = _walk(api, f"/v1/signals/{kind.signal_type}", limit=2)
    with psycopg.connect(api.url) as conn:
        expected = [
            r[0]
            for r in conn.execute(
                f"select signal_key from {kind.table} order by {kind.time_column} desc, signal_key desc"  # noqa: S608
            )
        ]
    assert expected, f"the seeded world has no {kind.table}"
    assert [i["signal_key"] for i in items] == expected
    assert all("evidence" in i and kind.time_column in i for i in items)


def test_signal_filters_select_what_they_say(api: ApiWorld):
    wallet = api.world.fresh_wallet
    mine = _walk(api, "/v1/signals/fresh_wallet", limit=1, wallet=wallet.upper().replace("0X", "0x"))
    assert mine and {i["wallet"] for i in mine} == {wallet}
    shown = _walk(api, "/v1/signals/fresh_wallet", limit=50)
    held = _walk(api, "/v1/signals/fresh_wallet", limit=50, suppressed="only")
    alerted = _walk(api, "/v1/signals/fresh_wallet", limit=50, suppressed="hide")
    assert held and all(i["suppressed_reason"] for i in held)
    assert all(i["suppressed_reason"] is None for i in alerted)
    assert len(held) + len(alerted) == len(shown)
    newest = shown[0]["traded_at"]
    assert [i["traded_at"] for i in _walk(api, "/v1/signals/fresh_wallet", limit=50, since=newest)] == [
        newest
    ]
    assert newest not in [
        i["traded_at"] for i in _walk(api, "/v1/signals/fresh_wallet", limit=50, until=newest)
    ]


def test_bad_filters_and_cursors_get_a_clear_error(api: ApiWorld):
    response = api.get("/v1/signals/arbitrage", wallet=api.world.fresh_wallet)
    assert response.status_code == 400 and "no wallet column" in response.json()["detail"]
    response = api.get("/v1/signals/no_such_signal")
    assert response.status_code == 404 and "fresh_wallet" in response.json()["detail"]
    assert api.get("/v1/signals/fresh_wallet", cursor="garbage!").status_code == 400
    first = api.get("/v1/markets", limit=1).json()
    response = api.get("/v1/wallets", cursor=first["next_cursor"])  # a cursor of another listing
    assert response.status_code == 400 and "another listing" in response.json()["detail"]
    assert api.get("/v1/markets/0xnothex").status_code == 422
    assert api.get("/v1/markets", q="a\x00b").status_code == 422


def test_markets_wallets_and_their_trades(api: ApiWorld):
    markets = _walk(api, "/v1/markets", limit=2)
    assert [m["condition_id"] for m in markets] == sorted(api.world.markets.values())
    detail = api.get(f"/v1/markets/{api.world.busy_market}").json()
    assert len(detail["tokens"]) == 2 and detail["event"]["event_id"] == detail["event_id"]
    assert api.get(f"/v1/markets/0x{'0' * 64}").status_code == 404
    tagged = _walk(api, "/v1/markets", limit=100, tag="Sports")
    assert tagged and all(m["event_id"] == "9002" for m in tagged)
    trades = _walk(api, f"/v1/markets/{api.world.busy_market}/trades", limit=7)
    with psycopg.connect(api.url) as conn:
        expected = [
            r[0]
            for r in conn.execute(
                "select fill_key from trades where condition_id = %s order by traded_at desc, fill_key desc",
                (api.world.busy_market,),
            )
        ]
        wallets = [r[0] for r in conn.execute("select wallet from wallets order by wallet")]
    assert len(expected) > 14 and [t["fill_key"] for t in trades] == expected
    assert [w["wallet"] for w in _walk(api, "/v1/wallets", limit=5)] == wallets
    whale = api.get(f"/v1/wallets/{api.world.fresh_wallet}").json()
    mine = _walk(api, f"/v1/wallets/{api.world.fresh_wallet}/trades", limit=3)
    assert whale["wallet"] == api.world.fresh_wallet and {t["wallet"] for t in mine} == {
        api.world.fresh_wallet
    }


def test_watchlists_their_wallets_and_one_list(api: ApiWorld):
    with psycopg.connect(api.url) as conn:
        lists = conn.execute(
            "select l.watchlist_id, l.name, l.min_position_usdc, count(w.wallet) from watchlists l"
            " left join watchlist_wallets w using (watchlist_id) group by l.watchlist_id order by l.watchlist_id"
        ).fetchall()
        members = conn.execute(
            "select wallet, label, note from watchlist_wallets where watchlist_id = %s order by wallet",
            (api.watchlist_id,),
        ).fetchall()
    assert len(lists) == 3 and len(members) == 5
    served = _walk(api, "/v1/watchlists", limit=2)  # pages of 2, 2, 1: each list once, by id
    assert [(i["watchlist_id"], i["name"], i["min_position_usdc"], i["wallet_count"]) for i in served] == [
        tuple(r) for r in lists
    ]
    assert all(i["created_at"] and i["updated_at"] for i in served)
    one = api.get(f"/v1/watchlists/{api.watchlist_id}")
    assert one.status_code == 200
    assert one.json() == next(i for i in served if i["watchlist_id"] == api.watchlist_id)
    wallets = _walk(api, f"/v1/watchlists/{api.watchlist_id}/wallets", limit=2)
    assert [(w["wallet"], w["label"], w["note"]) for w in wallets] == [tuple(r) for r in members]
    assert {w["watchlist_id"] for w in wallets} == {api.watchlist_id} and all(w["added_at"] for w in wallets)
    empty = next(i["watchlist_id"] for i in served if i["wallet_count"] == 0)
    assert api.get(f"/v1/watchlists/{empty}/wallets").json() == {"items": [], "next_cursor": None}


def test_an_unknown_watchlist_is_a_404(api: ApiWorld):
    missing = 2**63 - 1
    for path in (f"/v1/watchlists/{missing}", f"/v1/watchlists/{missing}/wallets"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["detail"] == "no such watchlist", path
    assert api.get("/v1/watchlists/0").status_code == 422
    assert api.get("/v1/watchlists/not-a-number").status_code == 422
    first = api.get("/v1/watchlists", limit=1).json()
    response = api.get(f"/v1/watchlists/{api.watchlist_id}/wallets", cursor=first["next_cursor"])
    assert response.status_code == 400 and "another listing" in response.json()["detail"]


def test_deliveries_and_scorecard(api: ApiWorld):
    deliveries = _walk(api, "/v1/alerts/deliveries", limit=2)
    ids = [d["delivery_id"] for d in deliveries]
    assert ids and ids == sorted(ids, reverse=True) and all(d["rule"] for d in deliveries)
    failed = _walk(api, "/v1/alerts/deliveries", limit=100, status="failed")
    assert {d["status"] for d in failed} <= {"failed"}
    rows = _walk(api, "/v1/scorecard", limit=2)
    assert rows and all(r["horizon"] in ("1h", "24h", "settlement") for r in rows)
    only = _walk(api, "/v1/scorecard", limit=100, signal_type="fresh_wallet")
    assert only and {r["signal_table"] for r in only} == {"fresh_wallet_trades"}
    summary = api.get("/v1/scorecard/summary").json()
    assert "fresh_wallet_trades" in summary["by_signal"]


def test_since_without_an_offset_is_read_as_utc(api: ApiWorld):
    newest = _walk(api, "/v1/signals/fresh_wallet", limit=100)[0]["traded_at"]
    naive = newest.replace("Z", "").split("+")[0]
    assert api.get("/v1/signals/fresh_wallet", since=naive).json()["items"][0]["traded_at"] == newest
    later = (api.world.now + timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert api.get("/v1/signals/fresh_wallet", since=later).json() == {"items": [], "next_cursor": None}


def test_a_misspelt_filter_is_refused_not_ignored(api: ApiWorld):
    response = api.get("/v1/wallets", min_volme=1000)
    assert response.status_code == 400
    assert "min_volme" in response.json()["detail"] and "min_volume" in response.json()["detail"]


def test_token_create_prints_the_token_once_and_stores_its_hash(warehouse_env: str, capsys):
    from pm_assets.cli.main import main

    assert main(["api", "token", "create", "--name", "ci"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("pmi_") and len(token) > 40 and token not in err and "shown only now" in err
    with psycopg.connect(warehouse_env) as conn:
        assert conn.execute("select name, token_hash from api_tokens").fetchall() == [
            ("ci", hashlib.sha256(token.encode()).hexdigest())
        ]
    assert main(["api", "token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ci" in listed and token[:10] in listed and token not in listed and "active" in listed
    assert main(["api", "token", "revoke", "1"]) == 0
    assert main(["api", "token", "revoke", "1"]) == 2  # already revoked: a clear error
    assert "no active API token" in capsys.readouterr().err


def test_up_gives_the_api_only_the_reader_login():
    from pm_assets.cli.up import api_env

    out = api_env(
        {
            "DATABASE_URL": "postgresql://admin:Sekr3t@db.internal:5432/pm_intel",
            "DAGSTER_PG_URL": "postgresql+psycopg2://admin:Sekr3t@db.internal:5432/pm_intel_dagster",
        }
    )
    assert "Sekr3t" not in repr(out) and set(out) == {"DASHBOARD_DATABASE_URL"}
    assert out["DASHBOARD_DATABASE_URL"].startswith("postgresql://pm_intel_reader@db.internal")


def test_an_unreachable_warehouse_is_a_503_that_names_no_url(api: ApiWorld):
    from fastapi.testclient import TestClient

    from dashboards.api.app import create_app
    from dashboards.api.server import reader_engine

    dead = reader_engine("postgresql://pm_intel_reader:Sekr3t@127.0.0.1:9/nowhere")
    with TestClient(create_app(dead)) as client:
        response = client.get("/v1/signals", headers=api.auth)
    dead.dispose()
    assert response.status_code == 503 and "unreachable" in response.json()["detail"]
    assert "Sekr3t" not in response.text and "127.0.0.1" not in response.text


def test_up_names_a_busy_api_port_and_its_flag(tmp_path, warehouse_url):
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    def free() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DAGSTER_DATABASE_URL")}
    env.update(PM_INTEL_HOME=str(tmp_path / "home"), DATABASE_URL=warehouse_url)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["up", "--dagster-port", str(free()), "--streamlit-port", str(free()), "--api-port", str(port)]
        result = subprocess.run(
            [str(Path(sys.executable).parent / "pm-intel"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and "--api-port" in result.stderr
