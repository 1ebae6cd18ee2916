"""A webhook post connects only to the address that was checked, with the right name for Host and TLS.

The system resolver is replaced by a fake that answers differently the second time (DNS rebinding), and
socket.create_connection by one that records where a connection was attempted and refuses it, so nothing
here leaves the machine: a test never reaches the public address it names.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
import trustme

from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings
from pm_sensors.alerts.direct_sends import send_message
from pm_sensors.alerts.messages import rule_test_message
from pm_sensors.alerts.targets import WebhookTargetError, validate_webhook_url
from tests.support.alerts import add_fresh_wallet, add_rule, deliveries
from tests.support.fake_network import FakeNetwork

PUBLIC = "93.184.216.34"  # only ever recorded by the fake connect below, never dialled
MESSAGE = rule_test_message("r", "fresh_wallet")


@pytest.fixture
def network(monkeypatch):
    return lambda answers: FakeNetwork(answers).install(monkeypatch)


def test_dns_rebinding_cannot_move_a_test_send_to_another_address(network):
    fake = network({"hooks.rebind.test": [PUBLIC, "127.0.0.1"]})

    result = send_message(
        "https://hooks.rebind.test/services/T0/sekrit", "json", MESSAGE, allow_private=False
    )

    assert fake.lookups == ["hooks.rebind.test"], "the name must be resolved once, by the check"
    # (two tries: the post is retried once)
    assert set(fake.connects) == {(PUBLIC, 443)}, "every connection must go to the address that was checked"
    assert not result.ok and result.text == "failed"


def test_dns_rebinding_cannot_move_a_delivery_to_another_address(network, db, warehouse_url):
    fake = network({"hooks.rebind.test": [PUBLIC, "127.0.0.1"]})
    add_rule(db, "rebind", "https://hooks.rebind.test/services/T0/sekrit", kind="slack")
    add_fresh_wallet(db, 1)
    deliverer = AlertDeliverer(
        lambda: psycopg.connect(warehouse_url, autocommit=True),
        DeliverySettings(allow_private=False, attempts_per_tick=1),
        sleep=lambda s: None,
    )

    deliverer.tick(None)

    assert fake.lookups == ["hooks.rebind.test"]
    assert set(fake.connects) == {(PUBLIC, 443)}
    (row,) = deliveries(db)
    assert row["status"] == "pending" and "sekrit" not in row["last_error"]


def test_an_idn_host_is_checked_as_the_punycode_name_httpx_connects_to(network):
    # Python's resolver encodes straße as "strasse" (IDNA 2003); httpx connects to xn--strae-oqa (IDNA 2008).
    fake = network({"strasse.example": [PUBLIC], "xn--strae-oqa.example": ["127.0.0.1"]})

    result = send_message("https://straße.example/hook", "json", MESSAGE, allow_private=False)

    assert fake.lookups == ["xn--strae-oqa.example"] and fake.connects == []
    assert result.text.startswith("refused by policy: ") and "loopback" in result.text


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com:8443/x",
        "https://hooks.example.com:80/x",
        "https://[fec0::1]/x",  # site-local, deprecated but still routed inside some networks
        "https://[64:ff9b:1::a01:203]/x",  # local-use NAT64 (RFC 8215)
        "https://[100::1]/x",  # discard-only
    ],
)
def test_only_port_443_on_global_addresses_is_accepted(url):
    with pytest.raises(WebhookTargetError):
        validate_webhook_url(url, allow_private=False, resolver=lambda host, port: [PUBLIC])


def test_a_name_resolving_to_a_site_local_address_is_refused():
    with pytest.raises(WebhookTargetError, match="site-local"):
        validate_webhook_url(
            "https://hooks.example.com/x", allow_private=False, resolver=lambda host, port: ["fec0::5"]
        )


def test_private_mode_allows_other_ports_but_still_pins():
    assert validate_webhook_url("http://127.0.0.1:8080/h", allow_private=True) == "http://127.0.0.1:8080/h"


# -- TLS: SNI and certificate checks name the host while the connection goes to the pinned address -------


@contextmanager
def tls_receiver(ca: trustme.CA, cert_name: str) -> Iterator[dict]:
    seen: dict = {"sni": [], "host": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["host"].append(self.headers.get("Host"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(cert_name).configure_cert(context)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["port"] = server.server_address[1]
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_tls_names_the_host_and_verifies_its_certificate_while_connecting_to_the_checked_address():
    ca = trustme.CA()
    lookups = []

    def resolver(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    verify = ssl.create_default_context()
    ca.configure_trust(verify)
    with tls_receiver(ca, "hooks.pm-intel.test") as seen:
        url = f"https://hooks.pm-intel.test:{seen['port']}/services/T0/sekrit"
        with httpx.Client(verify=verify, trust_env=False) as client:
            result = send_message(url, "json", MESSAGE, allow_private=True, resolver=resolver, client=client)
        assert result.ok, result.detail
        assert lookups == ["hooks.pm-intel.test"]
        assert seen["sni"] == ["hooks.pm-intel.test"]
        assert seen["host"] == [f"hooks.pm-intel.test:{seen['port']}"]

    with tls_receiver(ca, "someone-else.test") as seen:  # same address, certificate for another name
        url = f"https://hooks.pm-intel.test:{seen['port']}/services/T0/sekrit"
        with httpx.Client(verify=verify, trust_env=False) as client:
            result = send_message(url, "json", MESSAGE, allow_private=True, resolver=resolver, client=client)
        assert not result.ok and result.text == "failed" and seen["host"] == []


# -- test-send answers say nothing about the far side ------------------------------------------------------


@contextmanager
def tcp_listener(behaviour: str) -> Iterator[int]:
    """A loopback port that accepts and then closes at once ("close") or sends non-TLS bytes ("garbage")."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                if behaviour == "garbage":
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        sock.close()


def test_test_send_failures_read_the_same_whatever_the_far_side_did():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens here now: connection refused
    texts = {}
    texts["refused"] = send_message(f"https://127.0.0.1:{closed_port}/x", "json", MESSAGE, allow_private=True)
    with tcp_listener("close") as port:
        texts["reset"] = send_message(f"https://127.0.0.1:{port}/x", "json", MESSAGE, allow_private=True)
    with tcp_listener("garbage") as port:
        texts["not tls"] = send_message(f"https://127.0.0.1:{port}/x", "json", MESSAGE, allow_private=True)

    assert {name: r.text for name, r in texts.items()} == {name: "failed" for name in texts}
