"""Real server processes for tests: daphne (and the clock worker) on the
test database, on free loopback ports, stopped when the block ends; and the
people and waits that tests of them share."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import websockets
from django.conf import settings
from django.db import connection
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_database_url() -> str:
    """A URL for the database this test run uses (PostgreSQL's test
    database, or the SQLite test file)."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


def wait_until_serving(url: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/games", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not start")


@contextmanager
def running_servers(logs: Path, servers: int = 1, worker: bool = False) -> Iterator[list[str]]:
    """Start ``servers`` daphne processes (and the clock worker); yields
    their base URLs. With the in-memory layer, use a single server: the
    clock then runs inside it."""
    with running_processes(logs, servers, worker) as (urls, _):
        yield urls


@contextmanager
def running_processes(
    logs: Path, servers: int = 1, worker: bool = False, env: dict[str, str] | None = None
) -> Iterator[tuple[list[str], list[subprocess.Popen]]]:
    """Like :func:`running_servers`, with ``env`` added to the processes'
    environment; yields the URLs and the processes (servers first, then the
    worker), for tests that signal or kill one by its PID. Output goes to
    files in ``logs`` (a pipe nobody reads would block them)."""
    redis = bool((env or {}).get("REDIS_URL", os.environ.get("REDIS_URL")))
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gameproject.settings",
        "DATABASE_URL": test_database_url(),
        "SECRET_KEY": "live-test-secret",
        "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "games"),
        "WEBSOCKET_ALLOWED_ORIGINS": "localhost,127.0.0.1",
        "GAMES_CLOCK_IN_PROCESS": "0" if redis else "1",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        **(env or {}),
    }
    processes: list[subprocess.Popen] = []

    def start(name: str, *command: str) -> subprocess.Popen:
        log = open(logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, *command], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        processes.append(process)
        return process

    try:
        urls = []
        for index in range(servers):
            port = free_port()
            start(f"daphne{index}", "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "gameproject.asgi:application")
            urls.append(f"http://127.0.0.1:{port}")
        if worker:
            start("worker", "manage.py", "runclock", "--poll", "0.05")
        deadline = time.monotonic() + 30
        for url, process in zip(urls, processes, strict=False):
            wait_until_serving(url, process, deadline)
        yield urls, processes
    finally:
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def own_redis(logs: Path, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """A Redis server of the test's own on a free port (never the machine's),
    for tests that kill it by its PID; yields its URL and process."""
    port = port or free_port()
    log = open(logs / f"redis-{port}.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield url, process
    finally:
        stop([process])


# --- people and waiting, for tests of real processes ---------------------------


class Person:
    """A player talking to one server over HTTP and a WebSocket."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name

    def register(self) -> None:
        body = httpx.post(f"{self.url}/api/players", json={"name": self.name}).json()
        self.id, self.headers = body["id"], {"Authorization": f"Bearer {body['token']}"}

    def post(self, path: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.url}{path}", json=body or {}, headers=self.headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def open(self, match_id: int) -> websockets.ClientConnection:
        sock, _ = await self.watch(match_id)
        return sock

    async def watch(self, match_id: int, server: str | None = None) -> tuple[websockets.ClientConnection, dict]:
        """The player's socket of the match on ``server`` (else the player's
        own), and the snapshot it starts with."""
        ticket = self.post("/api/tickets")["ticket"]
        base = (server or self.url).replace("http", "ws")
        sock = await websockets.connect(f"{base}/ws/matches/{match_id}/?ticket={ticket}")
        snapshot = json.loads(await asyncio.wait_for(sock.recv(), 5))
        assert snapshot["type"] == "snapshot", snapshot
        return sock, snapshot


async def closed_code(sock: websockets.ClientConnection, timeout: float = 10) -> int:
    """Read until the server closes the socket; returns the close code."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await sock.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006


async def in_thread(func: Any, *args: Any) -> Any:
    """``func(*args)`` on a worker thread, which hands its database connection
    back to the pool before the thread ends (a dead thread's would stay
    checked out for the rest of the run)."""

    def run() -> Any:
        try:
            return func(*args)
        finally:
            connection.close()

    return await asyncio.to_thread(run)


def wait_for(check: Any, timeout: float, what: str) -> float:
    """Poll ``check()`` until true; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")
