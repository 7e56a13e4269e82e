"""Real webhook receivers on loopback for tests: an HTTP server in a thread
whose answer to each request is programmable, recording every request it
gets and whether its signature verifies with the ``standardwebhooks``
package (as a receiver's own code would check it). Given an ``ssl``
context it serves https on ``localhost`` (the TLS handshake on each
connection's own thread) and records the name each client asked for (SNI).

    with receiver(fail_first(2)) as hook:
        endpoint = endpoint_for(hook)  # in the test
        ...
        assert hook.ids() == [message_id] * 3
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

HOLD_LIMIT_SECONDS = 30.0


@dataclass
class Request:
    """One request as the receiver got it."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    verified_by: dict[str, bool]  # each secret the receiver holds: does it verify the request alone?
    local_address: str = ""  # the receiver's address the connection came to
    at: float = field(default_factory=time.monotonic)

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    @property
    def type(self) -> str | None:
        try:
            return json.loads(self.body)["type"]
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def verified(self) -> bool:
        """Some secret the receiver holds verifies the request."""
        return any(self.verified_by.values())


@dataclass
class Reply:
    """What to answer: a status, headers and body, after ``delay`` seconds or,
    with ``hold``, once that event is set. With ``trickle`` ("head" or
    "body") that part is sent one byte every ``interval`` seconds."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None
    trickle: str = ""
    interval: float = 0.5


Behaviour = Callable[[int, Request], Reply]


def ok(delay: float = 0.0) -> Behaviour:
    """200 to everything (after ``delay``)."""
    return lambda index, request: Reply(delay=delay)


def always(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    return lambda index, request: Reply(status=status, body=body, headers=dict(headers or {}))


def fail_first(failures: int, status: int = 500, body: bytes = b"not yet") -> Behaviour:
    """``status`` to the first ``failures`` requests, then 200."""
    return lambda index, request: Reply(status=status, body=body) if index < failures else Reply()


def gone() -> Behaviour:
    return always(410, b"this endpoint is gone")


def retry_after(status: int, value: str) -> Behaviour:
    return always(status, b"slow down", {"Retry-After": value})


def hang(seconds: float) -> Behaviour:
    """Answer 200 only after ``seconds`` (longer than the sender's timeout)."""
    return lambda index, request: Reply(delay=seconds)


def held_first(release: threading.Event) -> Behaviour:
    """Hold the first request until ``release`` is set, then answer 200; answer later ones at once."""
    return lambda index, request: Reply(hold=release) if index == 0 else Reply()


def held(release: threading.Event) -> Behaviour:
    """Hold every request until ``release`` is set."""
    return lambda index, request: Reply(hold=release)


def trickle(part: str, interval: float = 0.5, status: int = 200, body: bytes = b"ok, slowly") -> Behaviour:
    """Answer ``status``, sending ``part`` ("head": the status line and
    headers; "body": the body, after the whole head) one byte every
    ``interval`` seconds: every read gets a byte long before a per-read
    timeout would fire."""
    return lambda index, request: Reply(status=status, body=body, trickle=part, interval=interval)


def redirect(location: str, status: int = 307) -> Behaviour:
    return always(status, b"moved", {"Location": location})


def huge(size: int, status: int = 500) -> Behaviour:
    """``status`` with a body of ``size`` bytes of ``x``."""
    return lambda index, request: Reply(status=status, body=b"x" * size)


class _Server(ThreadingHTTPServer):
    """An HTTP server whose connections may be TLS: each is wrapped (the
    handshake made) on its own thread, so a failed handshake is that
    connection's end only."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        with self.tls.wrap_socket(request, server_side=True) as secure:
            super().finish_request(secure, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a refused handshake, or a client that hung up
            return
        super().handle_error(request, client_address)


class Receiver:
    """A running receiver: its URL, what it got, and the secrets it verifies with."""

    def __init__(self, behaviour: Behaviour, secrets: list[str], path: str, tls: ssl.SSLContext | None) -> None:
        self.behaviour = behaviour
        self.secrets = list(secrets)
        self.path = path
        self.requests: list[Request] = []
        self.server_names: list[str | None] = []  # the SNI of every TLS handshake begun
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{path}"
        if tls is not None:
            tls.sni_callback = self._note_server_name
            self.server.tls = tls
            self.url = f"https://localhost:{self.port}{path}"

    def _note_server_name(self, connection: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        with self.lock:
            self.server_names.append(name)

    def ids(self) -> list[str | None]:
        with self.lock:
            return [request.webhook_id for request in self.requests]

    def counts(self) -> Counter[str | None]:
        """How many times each webhook-id arrived."""
        return Counter(self.ids())

    def received(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> float:
        """Wait until ``count`` requests arrived; returns the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if len(self.received()) >= count:
                return time.monotonic() - started
            time.sleep(0.01)
        raise AssertionError(f"the receiver got {len(self.received())} requests, not {count}, in {timeout} s")

    def verifications(self, headers: dict[str, str], body: bytes) -> dict[str, bool]:
        results = {}
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                results[secret] = True
            except WebhookVerificationError:
                results[secret] = False
        return results

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                local_address = self.connection.getsockname()[0]
                request = Request(self.path, headers, body, receiver.verifications(headers, body), local_address)
                with receiver.lock:
                    index = len(receiver.requests)
                    receiver.requests.append(request)
                receiver.answer(self, receiver.behaviour(index, request))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def answer(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            self.closing.wait(reply.delay)
        if reply.hold is not None:
            reply.hold.wait(HOLD_LIMIT_SECONDS)
        try:
            self.send(handler, self.head(handler, reply), reply.interval if reply.trickle == "head" else 0)
            self.send(handler, reply.body, reply.interval if reply.trickle == "body" else 0)
        except OSError:  # the sender hung up (timed out, read enough, or was killed)
            pass

    @staticmethod
    def head(handler: BaseHTTPRequestHandler, reply: Reply) -> bytes:
        """The status line and headers."""
        reason = handler.responses.get(reply.status, ("",))[0]
        headers = {**reply.headers, "Content-Length": str(len(reply.body))}
        lines = [f"{handler.protocol_version} {reply.status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, handler: BaseHTTPRequestHandler, data: bytes, interval: float) -> None:
        """``data`` at once, or one byte every ``interval`` seconds (until the receiver closes)."""
        if not interval:
            for start in range(0, len(data), 65536):
                handler.wfile.write(data[start : start + 65536])
            return
        for byte in data:
            if self.closing.wait(interval):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver(
    behaviour: Behaviour | None = None,
    secrets: list[str] | None = None,
    path: str = "/hook",
    tls: ssl.SSLContext | None = None,
) -> Iterator[Receiver]:
    """A receiver on a free loopback port until the block ends; https on
    ``localhost`` with the certificate of ``tls`` when given."""
    running = Receiver(behaviour or ok(), secrets or [], path, tls)
    thread = threading.Thread(target=running.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.close()
        thread.join(timeout=5)
