"""Outgoing webhooks under load (``python manage.py benchwebhooks``).

One run, on a fresh PostgreSQL database and the Redis core layer (the
shipped configuration): one daphne server process and one sender process of
its own (``manage.py sendwebhooks``). Five conditions: no endpoint (the
baseline); an endpoint that answers at once (*healthy*); the same with the
sender paused (SIGSTOP) during the load, so the messages are only written to
the outbox; one that answers after ``slow_seconds``, beyond the sender's 15 s
timeout (*slow*); one whose port is closed (*down*). Each is measured once
per round, with new matches each time, the rounds in alternating order (the
conditions, then backwards, ...) so that a drift of the machine over the run
weighs on every condition alike. In each measurement:

- ``matches`` connect-four matches are played over WebSockets by the
  :class:`~bench.driver.Driver` for ``duration`` seconds, a move per match
  every ``move_interval`` seconds (open loop; 0: as fast as the server
  answers), giving moves/s and the move latency;
- meanwhile a churn task plays short tic-tac-toe matches over the HTTP API
  (create, join, five moves to a win) at ``churn_rate`` matches a second,
  each writing a ``match.started`` and a ``match.finished`` message while an
  endpoint wants them.

The endpoint is registered through the staff API (disabled, then enabled once
its receiver, ``bench/webhook_receiver.py``, holds its secret) after the
connect-four matches are set up, so the messages it gets are the churn's, and
deleted afterwards. A condition's latencies are pooled over its rounds; the
move path's figures are reported as ratios to the baseline of the same run.
For the healthy endpoint, the delay from each event to the receiver's 200
comes from the receiver's log: the payload's ``timestamp`` is taken inside
the event's transaction, before its commit, so ``answered - timestamp`` is an
upper bound of the time from the commit to the 2xx. The messages written and
delivered are counted in the bench database.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg

from bench import cpu
from bench.driver import HTTP_LIMITS, Api, Driver, latency_summary
from bench.report import machine, write_between_markers
from bench.servers import ROOT, Config, Running, bench_database, command_env, free_port, running, stop_process

EVENT_TYPES = ["match.started", "match.finished"]
X_WINS = [0, 3, 1, 4, 2]  # tic-tac-toe cells, seat 0 first: seat 0 wins on its third move
# The sender may post to receivers on this machine, over plain http.
WEBHOOK_ENV = {"WEBHOOKS_ALLOWED_NETWORKS": "127.0.0.0/8", "WEBHOOKS_ALLOW_HTTP": "1", "WEBHOOKS_IN_PROCESS": "0"}
START = "<!-- figures: benchwebhooks writes between these markers -->"
END = "<!-- end of the benchwebhooks figures -->"
HEADING = "## Outgoing webhooks (`python manage.py benchwebhooks`)"
STARTUP_SECONDS = 60.0
WARM_UP_SECONDS = 5.0

Progress = Callable[[str], None]


@dataclass
class Options:
    matches: int = 50
    duration: float = 8.0
    move_interval: float = 2.0
    churn_rate: float = 5.0
    spectators: int = 0
    rounds: int = 2
    slow_seconds: float = 20.0
    drain_seconds: float = 30.0
    postgres_url: str = Config.postgres_url
    redis_url: str = Config.redis_url


@dataclass(frozen=True)
class Condition:
    name: str
    receiver: str | None  # "ok", "slow", "down" (a closed port) or None (no endpoint)
    paused: bool = False  # the sender stopped (SIGSTOP) during the load, resumed after it


CONDITIONS = [
    Condition("no endpoint (baseline)", None),
    Condition("endpoint healthy", "ok"),
    Condition("endpoint healthy, sender paused", "ok", paused=True),
    Condition("endpoint slow", "slow"),
    Condition("endpoint down", "down"),
]


def schedule(rounds: int) -> list[Condition]:
    """The measurements in order: the conditions, then backwards, and so on."""
    return [c for r in range(rounds) for c in (CONDITIONS if r % 2 == 0 else CONDITIONS[::-1])]


def summary(seconds: list[float], digits: int = 1) -> dict[str, float | None]:
    """p50, p95, p99 and max in milliseconds (None for no values)."""
    return {key: round(value, digits) if seconds else None for key, value in latency_summary(seconds).items()}


# --- processes ---------------------------------------------------------------------


def django_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of a ``manage.py`` command on the bench database."""
    return {**command_env(database_url, redis_url), **WEBHOOK_ENV}


def staff_token(database_url: str, redis_url: str) -> str:
    """A staff account's API token, made with the project's own commands."""
    env = django_env(database_url, redis_url)
    subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", "bench", "--email", "b@b.invalid"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    made = subprocess.run([sys.executable, "manage.py", "apitoken", "bench"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return made.stdout.strip()


def _wait_for_line(path: Path, text: str, process: subprocess.Popen, what: str) -> str:
    """The first line of ``path`` holding ``text``, once ``process`` has written it."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if text in line:
                return line
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {path.read_text()[-2000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not start: {path.read_text()[-2000:]}")


@contextmanager
def sender_process(database_url: str, redis_url: str, logs: Path) -> Iterator[subprocess.Popen]:
    """``manage.py sendwebhooks`` on the bench database, once it is ready."""
    log_path = logs / "sender.log"
    with log_path.open("w") as log:
        command = [sys.executable, "manage.py", "sendwebhooks"]
        env = django_env(database_url, redis_url)
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_line(log_path, "webhook sender: ready", process, "the webhook sender")
            yield process
        finally:
            stop_process(process, 20)


@contextmanager
def receiver_process(mode: str, port: int, out: Path, delay: float, secret: str | None) -> Iterator[subprocess.Popen]:
    """``bench/webhook_receiver.py`` on ``port``, once it listens."""
    log_path = out.with_suffix(".log")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    if secret:
        env["WEBHOOK_SECRET"] = secret
    command = [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port), "--mode", mode,
               "--delay", str(delay), "--out", str(out)]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_line(log_path, "listening on", process, "the webhook receiver")
            yield process
        finally:
            stop_process(process, 20)


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cpu_seconds(pids: list[int]) -> float:
    """User and system time the processes have spent so far."""
    return sum(s.own for pid in pids if (s := cpu.stat(pid)) is not None) / cpu.TICK


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has spent so far (``/proc/stat``: all but idle and iowait)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / cpu.TICK


class CpuWindow:
    """The CPU time spent over a window by the server, the sender and every
    other process on the machine that is not the benchmark's own (the load
    generator, the receivers, this run's PostgreSQL backends, Redis): that
    last figure, above zero, says something else ran on the machine meanwhile
    (a lower bound: PostgreSQL backends of other databases that ended inside
    the window count as ours)."""

    def __init__(self, servers: list[int], sender: int, ours: list[int], database: str) -> None:
        self.servers, self.sender, self.ours, self.database = servers, sender, ours, database
        self.before = (cpu_seconds(servers), cpu_seconds([sender]), cpu.sample(self._all(), database))
        self.busy_before = machine_busy_seconds()

    def _all(self) -> list[int]:
        return [*self.servers, self.sender, *self.ours]

    def spent(self) -> dict[str, float]:
        busy = machine_busy_seconds() - self.busy_before
        server, sender, sampled = self.before
        groups = cpu.spent(sampled, cpu.sample(self._all(), self.database))
        ours = groups["server"] + groups["postgres"] - groups["postgres_other"] + groups["redis"]
        return {
            "server_cpu_s": cpu_seconds(self.servers) - server,
            "sender_cpu_s": cpu_seconds([self.sender]) - sender,
            "other_cpu_s": max(0.0, busy - ours),
        }


# --- the database's side -----------------------------------------------------------


def delivery_counts(database_url: str, endpoint_id: int) -> dict[str, Any]:
    """The endpoint's deliveries by status and its attempts, from the bench
    database; ``timings``: for each successful attempt, seconds from the event
    to the attempt's start and the attempt's own duration (the sender's view)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM webhooks_delivery WHERE endpoint_id = %s GROUP BY status", [endpoint_id]
        ).fetchall()
        attempts = conn.execute(
            "SELECT count(*) FROM webhooks_attempt WHERE endpoint_id = %s", [endpoint_id]
        ).fetchone()
        timings = conn.execute(
            "SELECT extract(epoch FROM a.at - m.created_at), a.duration_ms / 1000.0 FROM webhooks_attempt a "
            "JOIN webhooks_message m ON m.id = a.message_id WHERE a.endpoint_id = %s AND a.succeeded",
            [endpoint_id],
        ).fetchall()
    counts: dict[str, Any] = {"pending": 0, "succeeded": 0, "failed": 0, **{status: count for status, count in rows}}
    counts["written"] = counts["pending"] + counts["succeeded"] + counts["failed"]
    counts["attempts"] = attempts[0] if attempts else 0
    counts["timings"] = [(float(start), float(duration)) for start, duration in timings]
    return counts


async def drained(database_url: str, endpoint_id: int, seconds: float) -> None:
    """Wait until the endpoint has no pending delivery (at most ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = await asyncio.to_thread(delivery_counts, database_url, endpoint_id)
        if counts["pending"] == 0:
            return
        await asyncio.sleep(0.25)


async def released(database_url: str, endpoint_id: int, seconds: float) -> None:
    """Wait until no sender holds a claim on the endpoint's deliveries (at most ``seconds``)."""
    query = (
        "SELECT count(*) FROM webhooks_delivery WHERE endpoint_id = %s AND status = 'pending' AND claimed_until > now()"
    )

    def claimed() -> bool:
        with psycopg.connect(database_url, autocommit=True) as conn:
            row = conn.execute(query, [endpoint_id]).fetchone()
        return bool(row and row[0])

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and await asyncio.to_thread(claimed):
        await asyncio.sleep(0.1)


def analyze(database_url: str) -> None:
    """Fresh planner statistics, so that the first measurements do not run on
    the plans of nearly empty tables while later ones get autovacuum's."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


# --- the load ----------------------------------------------------------------------


async def churn(url: str, tokens: list[str], rate: float, duration: float) -> dict[str, Any]:
    """Tic-tac-toe matches over HTTP, one started every ``1 / rate`` seconds
    for ``duration`` seconds (open loop), each played to seat 0's win by a
    pair of ``tokens``: how many matches started and finished, and every
    request's latency (seconds, ``latencies``)."""
    count = int(rate * duration)
    pairs = len(tokens) // 2
    latencies: list[float] = []
    started = finished = 0
    async with httpx.AsyncClient(base_url=url, limits=HTTP_LIMITS, timeout=60) as http:
        call = Api(http, concurrency=64)

        async def timed(method: str, path: str, token: str, body: Any = None) -> dict:
            begun = time.perf_counter()
            answer = await call(method, path, token, body)
            latencies.append(time.perf_counter() - begun)
            return answer

        async def one(index: int, at: float) -> None:
            nonlocal started, finished
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            seats = (tokens[2 * (index % pairs)], tokens[2 * (index % pairs) + 1])
            match = await timed("POST", "/api/matches", seats[0], {"game": "tictactoe"})
            match = await timed("POST", f"/api/matches/{match['id']}/join", seats[1])
            started += match["status"] == "active"
            for turn, cell in enumerate(X_WINS):
                match = await timed("POST", f"/api/matches/{match['id']}/moves", seats[turn % 2],
                                    {"move": {"cell": cell}})  # fmt: skip
            finished += match["status"] == "finished"

        begin = time.perf_counter()
        outcomes = await asyncio.gather(*(one(i, begin + i / rate) for i in range(count)), return_exceptions=True)
    errors = [repr(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]
    return {"matches": count, "started": started, "finished": finished, "errors": errors, "latencies": latencies}


async def churn_players(url: str, rate: float) -> list[str]:
    """Tokens of the churn's players: enough pairs that each plays a match every few seconds."""
    count = 2 * max(4, math.ceil(rate * 3))
    async with httpx.AsyncClient(base_url=url, limits=HTTP_LIMITS, timeout=60) as http:
        call = Api(http)
        made = await asyncio.gather(*(call("POST", "/api/players", body={"name": f"churn{i}"}) for i in range(count)))
    return [player["token"] for player in made]


def move_latencies(driver: Driver) -> list[float]:
    """Each complete move's latency of the driver's last ``run_moves``, as it
    computes them (scheduled send to the last recipient), to pool rounds."""
    latencies = []
    for room in driver.rooms:
        for seq, scheduled in room.scheduled.items():
            arrivals = room.arrivals.get(seq, [])
            if len(arrivals) >= len(room.sockets):
                latencies.append(max(arrivals) - scheduled)
    return latencies


def receiver_view(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the receiver saw: requests, distinct messages, verified ones, and
    the delay from each message's event to the receiver's 200 (its first
    arrival) and to the request's arrival."""
    first: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: r["arrived"]):
        first.setdefault(record["webhook_id"], record)
    answered = [r["answered"] - r["event_at"] for r in first.values() if r["answered"] and r["event_at"]]
    arrived = [r["arrived"] - r["event_at"] for r in first.values() if r["event_at"]]
    return {
        "requests": len(records),
        "distinct": len(first),
        "verified": sum(bool(r["verified"]) for r in records),
        "by_type": {t: sum(r["type"] == t for r in first.values()) for t in EVENT_TYPES},
        "event_to_2xx": summary(answered),
        "event_to_arrival": summary(arrived),
    }


@dataclass
class Bench:
    """One run's servers, accounts and settings."""

    options: Options
    servers: Running
    sender: subprocess.Popen
    database_url: str
    token: str
    churn_tokens: list[str]
    workdir: Path
    progress: Progress
    receiver: int | None = None  # the pid of the current measurement's receiver

    async def staff(self, method: str, path: str, body: Any = None) -> dict:
        """A call to the staff API; its JSON answer ({} for none)."""
        async with httpx.AsyncClient(base_url=self.servers.urls[0], timeout=60) as http:
            headers = {"Authorization": f"Bearer {self.token}"}
            response = await http.request(method, path, json=body, headers=headers)
        response.raise_for_status()
        return response.json() if response.content else {}

    async def warm_up(self) -> None:
        """Moves and churn matches, not measured, then fresh planner
        statistics: the measurement that comes first should not pay for the
        server's first requests."""
        driver = Driver("project", self.servers.urls, min(10, self.options.matches), 0)
        await driver.setup()
        await asyncio.gather(
            driver.run_moves(WARM_UP_SECONDS, 0.5),
            churn(self.servers.urls[0], self.churn_tokens, self.options.churn_rate, WARM_UP_SECONDS),
        )
        await driver.close()
        await asyncio.to_thread(analyze, self.database_url)

    async def measure(self, condition: Condition, index: int) -> dict[str, Any]:
        """One measurement of a condition: new matches, its endpoint (if any),
        the load; the raw figures (every latency), pooled by :func:`combine`."""
        o = self.options
        began = time.monotonic()
        driver = Driver("project", self.servers.urls, o.matches, o.spectators)
        await driver.setup()
        set_up = time.monotonic() - began
        records = self.workdir / f"receiver{index}.jsonl"
        async with self.endpoint(condition, records) as endpoint:
            with self.paused(condition.paused):
                sample = await self.load(driver)
            sample["resumed_at"] = time.time()
            await driver.close()
            if endpoint is not None and condition.receiver == "ok":
                await drained(self.database_url, endpoint, o.drain_seconds)
            if endpoint is not None:
                sample["deliveries"] = await asyncio.to_thread(delivery_counts, self.database_url, endpoint)
        sample["records"] = read_records(records)
        took = f"set up in {set_up:.1f} s, {time.monotonic() - began:.1f} s in all"
        self.progress(f"{index + 1}. ({took}) {summary_line(combine(condition, [sample]))}")
        return sample

    @contextmanager
    def paused(self, pause: bool) -> Iterator[None]:
        """The sender stopped for the block (if ``pause``): the messages are
        written but wait in the outbox until it goes on."""
        if pause:
            os.kill(self.sender.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            if pause:
                os.kill(self.sender.pid, signal.SIGCONT)

    @asynccontextmanager
    async def endpoint(self, condition: Condition, records: Path) -> AsyncIterator[int | None]:
        """The condition's endpoint (its id) and receiver for the block, none
        for the baseline. Registered disabled, enabled once its receiver holds
        its secret; deleted (with its deliveries) at the end."""
        if condition.receiver is None:
            yield None
            return
        port = free_port()
        body = {"url": f"http://127.0.0.1:{port}/hook", "description": condition.name, "event_types": EVENT_TYPES,
                "enabled": False}  # fmt: skip
        created = await self.staff("POST", "/api/webhooks/endpoints", body)
        path = f"/api/webhooks/endpoints/{created['id']}"
        try:
            with ExitStack() as stack:
                if condition.receiver != "down":  # down: nothing listens on the port
                    secret = created["secrets"][0]["secret"]
                    receiver = stack.enter_context(
                        receiver_process(condition.receiver, port, records, self.options.slow_seconds, secret)
                    )
                    self.receiver = receiver.pid
                await self.staff("PATCH", path, {"enabled": True})
                yield created["id"]
            # The receiver is gone, so attempts in flight end now; disabled, the endpoint gets no new
            # claims. The delete then never races the recording of an attempt.
            await self.staff("PATCH", path, {"enabled": False})
            await released(self.database_url, created["id"], self.options.slow_seconds)
        finally:
            self.receiver = None
            await self.staff("DELETE", path)

    async def load(self, driver: Driver) -> dict[str, Any]:
        """The moves and the churn at once, with the CPU the server and the sender spent."""
        o = self.options
        database = urlparse(self.database_url).path.lstrip("/")
        ours = [os.getpid()] + ([self.receiver] if self.receiver else [])
        window = CpuWindow(self.servers.pids, self.sender.pid, ours, database)
        moves, churned = await asyncio.gather(
            driver.run_moves(o.duration, o.move_interval or None),
            churn(self.servers.urls[0], self.churn_tokens, o.churn_rate, o.duration),
        )
        return {"moves": moves, "move_latencies": move_latencies(driver), "churn": churned, **window.spent()}


# --- the run -----------------------------------------------------------------------


async def run(options: Options, progress: Progress) -> dict[str, Any]:
    """Every measurement, one after the other, on the same servers; the figures."""
    began = time.monotonic()
    config = Config(server="daphne", layer="redis", database="postgres", postgres_url=options.postgres_url,
                    redis_url=options.redis_url)  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="games-bench-webhooks-"))
    order = schedule(options.rounds)
    with bench_database(config, workdir) as database_url:
        token = staff_token(database_url, options.redis_url)
        with (
            running("project", config, database_url, extra_env=WEBHOOK_ENV) as servers,
            sender_process(database_url, options.redis_url, workdir) as sender,
        ):
            progress(f"daphne at {servers.urls[0]}, the sender (pid {sender.pid}), logs in {workdir}")
            tokens = await churn_players(servers.urls[0], options.churn_rate)
            bench = Bench(options, servers, sender, database_url, token, tokens, workdir, progress)
            await bench.warm_up()
            samples = [await bench.measure(condition, index) for index, condition in enumerate(order)]
    rows = [combine(c, [s for s, done in zip(samples, order, strict=True) if done == c]) for c in CONDITIONS]
    return {
        "command": command_line(options),
        "configuration": config.label(),
        "machine": machine(),
        "options": asdict(options),
        "order": [condition.name for condition in order],
        "conditions": with_ratios(rows),
        "seconds": round(time.monotonic() - began, 1),
    }


def _own_figures(sample: dict[str, Any]) -> dict[str, float | None]:
    """One measurement's p50 and p99, of the moves and of the churn's requests, and the other processes' CPU."""
    churned = summary(sample["churn"]["latencies"])
    return {
        "move_p50_ms": sample["moves"]["p50_ms"],
        "move_p99_ms": sample["moves"]["p99_ms"],
        "churn_p50_ms": churned["p50_ms"],
        "churn_p99_ms": churned["p99_ms"],
        "other_cpu_s": round(sample["other_cpu_s"], 2),
    }


def combine(condition: Condition, samples: list[dict[str, Any]]) -> dict[str, Any]:
    """A condition's figures over its measurements: latencies pooled, counts
    summed, rates and CPU averaged; each measurement's own p50 and p99 kept."""
    churned = [sample["churn"] for sample in samples]
    errors = [error for c in churned for error in c["errors"]]
    row: dict[str, Any] = {
        "condition": condition.name,
        "receiver": condition.receiver,
        "measurements": len(samples),
        "moves": {
            "moves_per_s": round(statistics.mean(s["moves"]["moves_per_s"] for s in samples), 1),
            "moves": sum(s["moves"]["moves"] for s in samples),
            "incomplete": sum(s["moves"]["incomplete"] for s in samples),
            **summary([latency for s in samples for latency in s["move_latencies"]]),
        },
        "churn": {
            **{key: sum(c[key] for c in churned) for key in ("matches", "started", "finished")},
            "errors": len(errors),
            "first_errors": errors[:3],
            "requests": sum(len(c["latencies"]) for c in churned),
            **{f"request_{k}": v for k, v in summary([x for c in churned for x in c["latencies"]]).items()},
        },
        "by_measurement": [_own_figures(sample) for sample in samples],
        "server_cpu_s": round(statistics.mean(s["server_cpu_s"] for s in samples), 2),
        "sender_cpu_s": round(statistics.mean(s["sender_cpu_s"] for s in samples), 2),
        "other_cpu_s": round(statistics.mean(s["other_cpu_s"] for s in samples), 2),
    }
    if condition.receiver is not None:
        counted = [s["deliveries"] for s in samples]
        timings = [timing for c in counted for timing in c["timings"]]
        row["deliveries"] = {
            **{key: sum(c[key] for c in counted) for key in ("written", "succeeded", "pending", "failed", "attempts")},
            "event_to_attempt": summary([start for start, _ in timings]),
            "attempt_duration": summary([duration for _, duration in timings]),
        }
        row["receiver_saw"] = receiver_view([record for s in samples for record in s["records"]])
    if condition.paused:
        answered = [(s, [r["answered"] for r in s["records"] if r["answered"]]) for s in samples]
        waits = [max(times) - s["resumed_at"] for s, times in answered if times]
        row["deliveries"]["backlog_drained_s"] = round(max(waits), 2) if waits else None
    return row


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0 or value != value or base != base:
        return None
    return round(value / base, 2)


def with_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with its move path's figures as ratios to the first row's (the baseline)."""
    base = rows[0]
    figures = {
        "moves_per_s": lambda row: row["moves"]["moves_per_s"],
        "move_p50": lambda row: row["moves"]["p50_ms"],
        "move_p99": lambda row: row["moves"]["p99_ms"],
        "churn_p50": lambda row: row["churn"]["request_p50_ms"],
        "churn_p99": lambda row: row["churn"]["request_p99_ms"],
    }
    return [{**row, "ratios": {key: _ratio(get(row), get(base)) for key, get in figures.items()}} for row in rows]


def command_line(options: Options) -> str:
    o = options
    return (
        f"python manage.py benchwebhooks --matches {o.matches} --duration {o.duration:g} "
        f"--move-interval {o.move_interval:g} --churn-rate {o.churn_rate:g} --spectators {o.spectators} "
        f"--rounds {o.rounds} --slow-seconds {o.slow_seconds:g}"
    )


def summary_line(row: dict[str, Any]) -> str:
    moves, churned = row["moves"], row["churn"]
    line = (
        f"{row['condition']}: {moves['moves_per_s']} moves/s, p50 {moves['p50_ms']} ms, p99 {moves['p99_ms']} ms, "
        f"{moves['incomplete']} incomplete; churn {churned['finished']}/{churned['matches']} matches, "
        f"request p50 {churned['request_p50_ms']} ms, p99 {churned['request_p99_ms']} ms, {churned['errors']} errors; "
        f"CPU s: server {row['server_cpu_s']}, sender {row['sender_cpu_s']}, others {row['other_cpu_s']}"
    )
    if "deliveries" in row:
        counts, saw = row["deliveries"], row["receiver_saw"]
        line += (
            f"; {counts['written']} written, {counts['succeeded']} succeeded, {counts['pending']} pending, "
            f"{counts['attempts']} attempts, receiver saw {saw['distinct']} distinct in {saw['requests']} requests, "
            f"event to 2xx p50 {saw['event_to_2xx']['p50_ms']} ms p99 {saw['event_to_2xx']['p99_ms']} ms"
        )
    return line


# --- the report --------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:,.1f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _each(row: dict[str, Any], key: str) -> str:
    return " / ".join(f"{_ms(m[key])}" for m in row["by_measurement"])


def move_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| condition | WebSocket moves/s | move p50 (ms) | move p99 (ms) | move p99 by measurement | moves incomplete "
        "| churn matches finished | churn request p50 (ms) | churn request p99 (ms) | churn p99 by measurement "
        "| CPU s per measurement: server / sender / others |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        m, c, r = row["moves"], row["churn"], row["ratios"]
        lines.append(
            f"| {row['condition']} | {m['moves_per_s']:,.1f} ({_times(r['moves_per_s'])}) "
            f"| {_ms(m['p50_ms'])} ({_times(r['move_p50'])}) | {_ms(m['p99_ms'])} ({_times(r['move_p99'])}) "
            f"| {_each(row, 'move_p99_ms')} | {m['incomplete']} | {c['finished']} of {c['matches']} "
            f"| {_ms(c['request_p50_ms'])} ({_times(r['churn_p50'])}) "
            f"| {_ms(c['request_p99_ms'])} ({_times(r['churn_p99'])}) | {_each(row, 'churn_p99_ms')} "
            f"| {row['server_cpu_s']:.1f} / {row['sender_cpu_s']:.1f} / {row['other_cpu_s']:.1f} |"
        )
    return lines


def delivery_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| condition | messages written | expected from the churn | delivered (2xx) | pending at the end | failed "
        "| attempts | requests at the receiver | distinct messages there | signatures verified "
        "| event → 2xx p50 / p99 / max (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "deliveries" not in row:
            continue
        d, s, c = row["deliveries"], row["receiver_saw"], row["churn"]
        listening = row["receiver"] != "down"
        latency = s["event_to_2xx"]
        lines.append(
            f"| {row['condition']} | {d['written']} | {c['started'] + c['finished']} | {d['succeeded']} "
            f"| {d['pending']} | {d['failed']} | {d['attempts']} "
            f"| {s['requests'] if listening else '-'} | {s['distinct'] if listening else '-'} "
            f"| {s['verified'] if listening else '-'} "
            f"| {_ms(latency['p50_ms'])} / {_ms(latency['p99_ms'])} / {_ms(latency['max_ms'])} |"
        )
    return lines


def conclusions(rows: list[dict[str, Any]]) -> list[str]:
    """The figures the issue asks for, a sentence each."""
    out = []
    by_name = {row["condition"]: row for row in rows}
    healthy = by_name.get("endpoint healthy")
    if healthy:
        d, latency = healthy["deliveries"], healthy["receiver_saw"]["event_to_2xx"]
        start, attempt = d["event_to_attempt"], d["attempt_duration"]
        out.append(
            f"- Healthy endpoint: {d['succeeded']} of the {d['written']} messages written were delivered "
            f"({healthy['receiver_saw']['distinct']} distinct at the receiver); from the event to the receiver's "
            f"2xx: p50 **{_ms(latency['p50_ms'])} ms**, p99 **{_ms(latency['p99_ms'])} ms**, "
            f"max {_ms(latency['max_ms'])} ms. In the sender's records: from the event to the attempt's start p50 "
            f"{_ms(start['p50_ms'])} ms, p99 {_ms(start['p99_ms'])} ms; the attempt itself p50 "
            f"{_ms(attempt['p50_ms'])} ms, p99 {_ms(attempt['p99_ms'])} ms."
        )
    paused = by_name.get("endpoint healthy, sender paused")
    if paused:
        d = paused["deliveries"]
        out.append(
            f"- Sender paused: {d['succeeded']} of the {d['written']} messages that waited in the outbox were "
            f"delivered once it went on, the last {_ms(d['backlog_drained_s'])} s after it went on."
        )
    for row in rows[1:]:
        r = row["ratios"]
        out.append(
            f"- {row['condition'].capitalize()}: WebSocket moves/s {_times(r['moves_per_s'])}, move p50 "
            f"{_times(r['move_p50'])}, p99 {_times(r['move_p99'])}; churn requests p50 {_times(r['churn_p50'])}, "
            f"p99 {_times(r['churn_p99'])} of the baseline."
        )
    base = rows[0]["by_measurement"]
    if len(base) > 1:
        p99s = [m["move_p99_ms"] for m in base]
        out.append(
            f"- Noise: the baseline's own measurements have a move p99 of {' and '.join(_ms(v) for v in p99s)} ms "
            f"({_times(_ratio(max(p99s), min(p99s)))} apart); differences of that size between conditions are noise."
        )
    return out


def _count(times: int) -> str:
    return {1: "once", 2: "twice"}.get(times, f"{times} times")


def _setup_lines(results: dict[str, Any]) -> list[str]:
    """What was measured, how, and on what."""
    o, m = results["options"], results["machine"]
    offered = "as fast as the server answers (closed loop)"
    if o["move_interval"]:
        rate = o["matches"] / o["move_interval"]
        offered = f"a move per match every {o['move_interval']:g} s ({rate:g} moves/s offered)"
    return [
        f"- Command: `{results['command']}` (took {results['seconds']:.0f} s)",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}. The load "
        "generator, PostgreSQL, Redis, the sender and the receivers share these cores with the server, so the "
        "sender's CPU (last column) is taken from the server's. *Others* in that column: the CPU time of every "
        "other process on the machine during the measurement (from `/proc/stat`, less the benchmark's own "
        "processes and this run's PostgreSQL backends); above zero, something else ran meanwhile.",
        f"- Each measurement, {o['duration']:g} s: {o['matches']} new connect-four matches over WebSockets "
        f"({o['spectators']} spectator(s) each), {offered}; meanwhile {o['churn_rate']:g} tic-tac-toe matches a "
        "second over the HTTP API (create, join, five moves to a win), each writing a `match.started` and a "
        "`match.finished` message while an endpoint wants them.",
        f"- Each condition is measured {_count(o['rounds'])}, in the order {', '.join(results['order'])}, so that "
        "a drift over the run weighs on every condition alike; its latencies are pooled.",
        "- The endpoint (subscribed to `match.started` and `match.finished`) is registered through the staff API "
        "once the measurement's connect-four matches are set up, and deleted after it. *Healthy* answers 200 at "
        f"once; *slow* answers after {o['slow_seconds']:g} s, beyond the sender's 15 s timeout "
        "(`WEBHOOKS_TIMEOUT_SECONDS`), so every attempt fails; *down* is a closed port. With the *sender paused* "
        "(SIGSTOP during the load, SIGCONT after it) the messages are only written to the outbox, in the events' "
        "transactions: that row is the cost of writing them, without the sending.",
        "- Move latency: from a move's scheduled send to the last of its match's sockets holding the event. "
        "Ratios (x) are to the baseline row of the same run.",
    ]


def markdown(results: dict[str, Any]) -> str:
    """The section of docs/performance.md, heading included."""
    o, rows = results["options"], results["conditions"]
    intro = (
        "How fast the backend tells a receiver that a match started or finished, and what sending webhooks costs "
        "the move path, with the receiver healthy, slow or down. One daphne process (Redis core layer, "
        "PostgreSQL) and one `manage.py sendwebhooks` process; the receivers are `bench/webhook_receiver.py` "
        "processes on this machine."
    )
    deliveries = (
        "Deliveries, counted in the bench database at the end of each measurement (the healthy endpoint's "
        f"pending deliveries are first given up to {o['drain_seconds']:g} s). *Event → 2xx* is from the payload's "
        "`timestamp` to the moment the receiver had written its 200, for each message's first arrival. The "
        "timestamp is taken inside the event's transaction, before its commit (and cut to the millisecond), so "
        "this is an **upper bound** of the time from the commit to the receiver's 2xx (with the sender paused, it "
        "includes the pause). *Attempts*: those recorded by the end of the measurement (the slow endpoint's end "
        "with the sender's timeout, later)."
    )
    parts = [HEADING, "", intro, "", *_setup_lines(results), "", *move_table(rows), "", deliveries, ""]
    return "\n".join([*parts, *delivery_table(rows), "", *conclusions(rows)])


def write_figures(path: Path, results: dict[str, Any]) -> None:
    """Put the section between its markers in ``path`` (see ``bench.report.write_between_markers``)."""
    write_between_markers(path, START, END, markdown(results))
