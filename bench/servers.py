"""Start and stop the servers under test, on free loopback ports."""

from __future__ import annotations

import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
# uvicorn's WebSocket protocol as the benchmark runs it (see bench/websocket_protocol.py).
UVICORN_WS = "bench.websocket_protocol:CompactDeflateProtocol"
APPS = {"project": "gameproject.asgi:application", "relay": "bench.relay:application"}


@dataclass
class Config:
    """What to measure the project on."""

    server: str = "daphne"  # or "uvicorn"
    layer: str = "memory"  # "memory", "redis" (channels-redis core) or "pubsub"
    database: str = "sqlite"  # or "postgres"
    processes: int = 1
    redis_url: str = "redis://127.0.0.1:6379/0"
    postgres_url: str = "postgres://postgres@127.0.0.1:5432/postgres"

    def label(self) -> str:
        return f"{self.server}, {self.layer} layer, {self.database}, {self.processes} process(es)"


@dataclass
class Running:
    urls: list[str]
    pids: list[int]
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)


def shipped(root: Path = ROOT) -> str:
    """The configuration the Procfile ships, as ``server/layer``: its ``web:``
    line's server (daphne, or uvicorn, gunicorn's worker included) and the
    Redis layer a ``REDIS_CHANNEL_LAYER=`` in that line sets, else the
    default of gameproject/settings.py ("core": the channels-redis core layer,
    called "redis" here)."""
    procfile = (root / "Procfile").read_text() if (root / "Procfile").exists() else ""
    web = next((line for line in procfile.splitlines() if line.startswith("web:")), "")
    server = "uvicorn" if "uvicorn" in web else "daphne"
    flavour = re.search(r"REDIS_CHANNEL_LAYER=(\w+)", web)
    if not flavour:
        settings = (root / "gameproject" / "settings.py").read_text()
        flavour = re.search(r"""["']REDIS_CHANNEL_LAYER["']\s*,\s*["'](\w+)["']""", settings)
    layer = flavour.group(1) if flavour else "core"
    return f"{server}/{'redis' if layer == 'core' else layer}"


def command_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of a ``manage.py`` command (a worker, a sender) on the
    bench database and Redis."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gameproject.settings",
        "SECRET_KEY": "bench",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _more_files() -> None:
    """Let a server process hold thousands of sockets."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def raise_file_limit() -> None:
    _more_files()


@contextmanager
def bench_database(config: Config, workdir: Path, root: Path = ROOT) -> Iterator[str]:
    """A fresh, migrated database for one run; yields its URL. ``root``: the
    checkout whose ``manage.py migrate`` makes it (another version's own
    migrations, for a run of that version)."""
    if config.database == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        name = f"games_bench_{uuid.uuid4().hex[:8]}"
        admin = config.postgres_url
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urlparse(admin)._replace(path=f"/{name}").geturl()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "DJANGO_SETTINGS_MODULE": "gameproject.settings"}
    env["PYTHONPATH"] = str(root)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    try:
        yield url
    finally:
        if config.database == "postgres":
            import psycopg

            with psycopg.connect(config.postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait(url: str, process: subprocess.Popen, probe: str, deadline: float) -> None:
    host, port = urlparse(url).hostname, urlparse(url).port
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if probe == "http":
                httpx.get(f"{url}/api/games", timeout=1).raise_for_status()
            else:
                socket.create_connection((host, port), timeout=1).close()
            return
        except (httpx.HTTPError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not start")


def imported_from(root: Path, module: str = "games") -> Path:
    """Where a server started with ``root`` as its checkout imports ``module``
    from (the same interpreter, working directory and PYTHONPATH as
    :func:`running` gives it)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    found = subprocess.run([sys.executable, "-c", f"import {module}; print({module}.__file__)"], cwd=root, env=env,
                           capture_output=True, text=True, check=True)  # fmt: skip
    return Path(found.stdout.strip()).resolve()


@contextmanager
def running(
    kind: str, config: Config, database_url: str | None, root: Path = ROOT, extra_env: dict[str, str] | None = None
) -> Iterator[Running]:
    """Start the project (``kind="project"``), the Channels relay baseline
    (``"relay"``) or the bare websockets baseline (``"websockets"``).
    ``root``: the checkout the servers run from (its own code on this Python;
    another version of the project, for a before/after comparison).
    ``extra_env``: more environment variables for the servers, set last (so
    they win over the defaults above), such as the webhooks settings."""
    logs = Path(tempfile.mkdtemp(prefix="games-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gameproject.settings",
        "SECRET_KEY": "bench",
        "DATABASE_URL": database_url or "",
        "CHANNEL_LAYER_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        "WEBSOCKET_ALLOWED_ORIGINS": "localhost,127.0.0.1",
        "GAMES_CLOCK_IN_PROCESS": "0",  # the benchmark's matches have no clocks
        # Hundreds of simulated players and thousands of sockets, all from
        # 127.0.0.1: as one address they would be over the per-address limits;
        # every other limit stays at its default.
        "GAMES_LIMIT_ADDRESS_PLAYER_CREATION": "100000/minute",
        "GAMES_LIMIT_ADDRESS_MATCH_CREATION": "100000/minute",
        "GAMES_LIMIT_ADDRESS_SOCKET_OPENS": "100000/minute",
        "GAMES_MAX_SOCKETS_PER_ADDRESS": "100000",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(root),  # the checkout's own packages first, whatever the caller's PYTHONPATH
    }
    env.pop("REDIS_URL", None)
    if config.layer in ("redis", "pubsub"):
        env["REDIS_URL"] = config.redis_url
        env["REDIS_CHANNEL_LAYER"] = "pubsub" if config.layer == "pubsub" else "core"
    if not database_url:
        env.pop("DATABASE_URL")
    env.update(extra_env or {})
    result = Running(urls=[], pids=[], logs=logs)
    count = 1 if kind == "websockets" else config.processes
    try:
        for index in range(count):
            port = free_port()
            if kind == "websockets":
                command = [sys.executable, "-m", "bench.baseline_websockets", str(port)]
            elif config.server == "uvicorn":
                command = [sys.executable, "-m", "uvicorn", APPS[kind], "--host", "127.0.0.1", "--port", str(port),
                           "--log-level", "warning", "--ws-max-size", "65536", "--no-access-log"]  # fmt: skip
                if (root / UVICORN_WS.replace(".", "/").split(":")[0]).with_suffix(".py").exists():
                    command += ["--ws", UVICORN_WS]  # small-window compression, where the checkout has it
            else:
                command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                           "--websocket-max-message-size", "65536", APPS[kind]]  # fmt: skip
            log = open(logs / f"{kind}{index}.log", "w")  # noqa: SIM115 (closed with the process)
            process = subprocess.Popen(
                command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_more_files
            )
            result.processes.append(process)
            result.pids.append(process.pid)
            result.urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for url, process in zip(result.urls, result.processes, strict=True):
            _wait(url, process, "http" if kind == "project" else "tcp", deadline)
        yield result
    finally:
        for process in result.processes:
            process.terminate()
        for process in result.processes:
            stop_process(process, 3)
