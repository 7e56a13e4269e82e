"""A webhook receiver for the benchmark, run as a process of its own:

    python -m bench.webhook_receiver --port 0 --mode ok --out arrivals.jsonl
    python -m bench.webhook_receiver --port 8001 --mode slow --delay 20 --out arrivals.jsonl

It answers every POST with 200, at once (``ok``) or after ``--delay``
seconds (``slow``), and writes one JSON line per request to ``--out``:

- ``webhook_id``: the ``webhook-id`` header;
- ``type`` and ``timestamp``: the payload's, as sent; ``event_at``: that
  timestamp in seconds since the epoch (null if the body is not a payload);
- ``arrived``: when the whole request had been read, and ``answered``: when
  the 200 had been written (seconds since the epoch; null when the answer
  could not be written, or the receiver stopped first);
- ``status``: the status answered; ``verified``: whether the
  ``standardwebhooks`` package verifies the signature with a secret of
  ``WEBHOOK_SECRET`` (secrets separated by spaces), null without one.

A request's line is written once it is answered; those still waiting when
the receiver stops (SIGTERM or SIGINT) are written then, unanswered. The
first line on stdout is ``listening on http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20


class Recorder:
    """The JSON lines file, written from every request's thread."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.waiting: dict[int, dict[str, Any]] = {}

    def begin(self, record: dict[str, Any]) -> int:
        with self.lock:
            key = id(record)
            self.waiting[key] = record
        return key

    def finish(self, key: int, answered: float | None) -> None:
        with self.lock:
            record = self.waiting.pop(key, None)
            if record is not None:
                self._write({**record, "answered": answered})

    def close(self) -> None:
        """Write the requests still waiting for their answer, unanswered."""
        with self.lock:
            for record in self.waiting.values():
                self._write({**record, "answered": None})
            self.waiting.clear()
            self.out.close()

    def _write(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()


def event_time(timestamp: Any) -> float | None:
    """A payload's ``timestamp`` (ISO 8601, ``Z``) in seconds since the epoch."""
    if not isinstance(timestamp, str):
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def verify(secrets: list[str], body: bytes, headers: dict[str, str]) -> bool | None:
    """Whether some secret verifies the request, as a receiver's own code would check it."""
    if not secrets:
        return None
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            continue
    return False


def describe(body: bytes, headers: dict[str, str], secrets: list[str], arrived: float, path: str) -> dict[str, Any]:
    """A request's line, but for its answer time."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    return {
        "webhook_id": headers.get("webhook-id"),
        "type": payload.get("type"),
        "timestamp": payload.get("timestamp"),
        "event_at": event_time(payload.get("timestamp")),
        "arrived": arrived,
        "status": 200,
        "verified": verify(secrets, body, headers),
        "path": path,
    }


def handler(recorder: Recorder, delay: float, secrets: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = min(int(self.headers.get("content-length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            arrived = time.time()
            headers = {name.lower(): value for name, value in self.headers.items()}
            key = recorder.begin(describe(body, headers, secrets, arrived, self.path))
            if delay:
                time.sleep(delay)
            answered: float | None = None
            try:
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                self.wfile.flush()
                answered = time.time()
            except OSError:  # the sender gave up (its timeout) and closed the connection
                self.close_connection = True
            recorder.finish(key, answered)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--mode", choices=("ok", "slow"), default="ok")
    parser.add_argument("--delay", type=float, default=20.0, help="seconds before answering, in slow mode")
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args(argv)
    secrets = os.environ.get("WEBHOOK_SECRET", "").split()
    recorder = Recorder(options.out.open("a"))
    delay = options.delay if options.mode == "slow" else 0.0
    server = ThreadingHTTPServer(("127.0.0.1", options.port), handler(recorder, delay, secrets))
    server.daemon_threads = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(0))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        recorder.close()
        server.server_close()


if __name__ == "__main__":
    main()
