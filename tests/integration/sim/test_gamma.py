"""Gamma keyset/legacy listings and their quirks."""

from __future__ import annotations

from tests import loopback


def test_keyset_pages_and_quirks(sim):
    seen, cur = [], None
    while True:
        p = {"limit": 100, "version": "v1"} | ({"after_cursor": cur} if cur else {})
        body = loopback.get(sim.gamma_url + "/markets/keyset", params=p).json()
        seen += [m["id"] for m in body["markets"]]
        cur = body.get("next_cursor")
        if cur is None:
            assert "next_cursor" not in body
            break
    v2 = loopback.get(sim.gamma_url + "/markets/keyset", params={"limit": 100, "version": "v2"}).json()[
        "markets"
    ]
    default = loopback.get(sim.gamma_url + "/markets/keyset", params={"limit": 100}).json()["markets"]
    assert len(seen) == len(set(seen)) and v2 and all(m["version"] == "v2" for m in v2)
    assert [m["id"] for m in default] == seen[:100]  # omitted version => v1 only
    assert all(m["closed"] is False for m in default)  # closed defaults to false
    r = loopback.get(sim.gamma_url + "/markets/keyset", params={"offset": 5})
    assert r.status_code == 422 and r.json() == {
        "type": "validation error",
        "error": "offset is not allowed on keyset endpoints",
    }
    r = loopback.get(sim.gamma_url + "/markets", params={"order": "volume_24hr"})
    assert r.status_code == 422 and r.json()["error"] == "order fields are not valid"
    r = loopback.get(sim.gamma_url + "/markets", params={"offset": 2001})
    assert r.status_code == 422
    r = loopback.get(sim.gamma_url + "/markets", params={"limit": 500, "closed": "true"})
    assert r.headers["deprecation"] == "true" and len(r.json()) <= 100
    assert all(m["closed"] for m in r.json())
    ev = loopback.get(sim.gamma_url + "/events/keyset", params={"limit": 500}).json()
    assert isinstance(ev["events"][0]["volume"], float | int)
