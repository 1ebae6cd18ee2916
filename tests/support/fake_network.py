"""A stand-in for DNS and TCP connect: names answer what a test says (differently the second time, if it
says so), and every connection attempt is recorded and refused, so no packet leaves the machine."""

from __future__ import annotations

import socket


class FakeNetwork:
    """getaddrinfo answers from `answers[name]` (a list: the next answer each call, the last one repeating);
    create_connection records (address, port) and refuses: no packet leaves the process."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []
        self._real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.isascii():
            name = name.encode("idna").decode()  # what the real socket module does with a str host
        if name not in self.answers:
            if name == "localhost" or _is_numeric(name):
                return self._real_getaddrinfo(host, port, family, type, proto, flags)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (the test's fake DNS)")
        self.lookups.append(name)
        queue = self.answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family_ = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family_, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]

    def install(self, monkeypatch) -> FakeNetwork:
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", self.create_connection)
        return self

    def create_connection(self, address, timeout=None, source_address=None, **kwargs):
        host, port = address[0], address[1]
        resolved = self.getaddrinfo(host, port)[0][4][0]
        self.connects.append((resolved, int(port)))
        raise ConnectionRefusedError(111, "refused by the test's fake network")


def _is_numeric(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
