"""A real HTTP receiver on loopback for the webhook tests.

It verifies every request's signature with its secret, records what it got (headers, raw body,
validity), and can be told to answer failures for the next N requests or to be down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    signature_ok: bool

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)  # type: ignore[no-any-return]

    @property
    def key(self) -> str:
        return self.headers.get("Idempotency-Key", "")


@dataclass
class Receiver:
    secret: str
    server: ThreadingHTTPServer | None = None
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def verify(self, headers: dict[str, str], raw: bytes) -> bool:
        timestamp = headers.get("X-CreditFlow-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
            ).hexdigest()
        )
        return hmac.compare_digest(expected, headers.get("X-CreditFlow-Signature", ""))

    def accepted(self) -> list[Received]:
        """Requests answered 2xx with a valid signature, one per idempotency key."""
        seen: dict[str, Received] = {}
        for item in self.received:
            if item.signature_ok and item.headers.get("X-Test-Outcome") == "ok":
                seen.setdefault(item.key, item)
        return list(seen.values())


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            ok = receiver.verify(headers, raw)
            with receiver.lock:
                failing = receiver.fail_next > 0
                if failing:
                    receiver.fail_next -= 1
                status = receiver.fail_status if failing else (204 if ok else 401)
                headers["X-Test-Outcome"] = "ok" if status < 300 else "failed"
                receiver.received.append(Received(self.path, headers, raw, ok))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port_url() -> str:
    """A loopback URL nobody listens on (the receiver is 'down')."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
