"""A local webhook receiver on 127.0.0.1 for tests, benchmarks and offline demos.

Records every request (path, headers, JSON body, arrival time) and can be told to fail: answer the next
requests with a status (500, 429 + Retry-After, ...), or be "down" (drop connections without answering).
Needs PM_INTEL_ALLOW_PRIVATE_WEBHOOKS=1 (or allow_private=True) to be a valid alert target.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float  # time.time()
    status: int  # what the receiver answered


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._script: deque[tuple[int, dict[str, str]]] = deque()
        self._down = False
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; with Nagle on, the client's delayed ACK adds ~40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers = receiver._next_response()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                if status == 0:
                    receiver._record(ReceivedRequest(self.path, dict(self.headers), body, time.time(), 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                # Recorded before the answer goes out: a sender that saw its 200 must find its request here.
                receiver._record(ReceivedRequest(self.path, dict(self.headers), body, time.time(), status))
                reply = b"ok" if status < 300 else b"failure requested by test"
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 500, headers: dict[str, str] | None = None) -> None:
        """Answer the next `count` requests with `status` (0: drop the connection without answering)."""
        with self._lock:
            self._script.extend([(status, headers or {})] * count)

    def set_down(self, down: bool) -> None:
        """While down, every request's connection is dropped unanswered."""
        with self._lock:
            self._down = down

    def delivered(self, path: str | None = None) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if 0 < r.status < 300 and (path is None or r.path == path)]

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[ReceivedRequest]:
        """Block until `count` successful requests arrived (or the timeout passed); returns them."""
        end = time.monotonic() + timeout_s
        with self._arrived:
            while sum(1 for r in self.requests if 0 < r.status < 300) < count and time.monotonic() < end:
                self._arrived.wait(max(0.0, end - time.monotonic()))
        return self.delivered()

    def _next_response(self) -> tuple[int, dict[str, str]]:
        with self._lock:
            if self._down:
                return 0, {}
            return self._script.popleft() if self._script else (200, {})

    def _record(self, request: ReceivedRequest) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()


@contextmanager
def running_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
