"""``python manage.py loadtest``: the load benchmark. See README, Performance.

One run measures, on every ``--configs`` server/layer (the shipped one, read
from the Procfile, always among them): the Channels relay baseline and the
project with 1 and ``--processes`` processes, saturated, with the CPU each
accepted move cost the servers, PostgreSQL and Redis (bench.cpu); the open-loop
latency at fractions of the shipped configuration's saturated throughput; the
memory per held socket. Once per run: the bare websockets baseline, the
500-match target load and polling versus sockets (connect four, and chess
after ``--prelude`` plies) on the shipped configuration. ``--before REV``
measures the code of that revision, from a clone of its own, at daphne and
the Redis core layer: today's default. Then issue 11's targets are judged.
The full run (``--plan`` prints the steps and their estimated time)::

    python manage.py loadtest --configs daphne/redis,uvicorn/pubsub --before c086849 --matches 200 \
        --spectators 1 --duration 10 --target --connections 5000 --processes 2 --profile 10 --out docs
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench import cpu, report
from bench.compare import checkout

try:
    from bench.driver import Driver, hold_connections, polling_versus_sockets
    from bench.servers import (
        ROOT,
        Config,
        Running,
        bench_database,
        imported_from,
        raise_file_limit,
        rss_bytes,
        running,
    )
    from bench.servers import shipped as shipped_config
except ModuleNotFoundError as missing:  # a production install: requirements.txt alone
    raise ModuleNotFoundError(f"{missing}; the benchmark needs: pip install -r requirements-bench.txt") from missing


T = TypeVar("T")

# Today's default, where --before is measured: daphne and the channels-redis core layer.
BEFORE_CONFIG = "daphne/redis"
SERVERS, LAYERS = ("daphne", "uvicorn"), ("memory", "redis", "pubsub")
WEBSOCKETS = "websockets baseline (no validation, no database)"
# Rough costs of the steps on the 2-core machine of docs/performance.md, for the plan printed at the start
# (the old single-configuration command, polling of connect four included, took 629 s; this model says 545 s).
START_S = 7.0  # a server process up and answering
STEP_S = 4.0  # a step's own overhead: the last events landing, sockets closed, servers stopped
MIGRATE_S = 15.0  # a fresh database migrated
PROJECT_SETUP_S = 0.08  # per match: players, match, join, tickets, sockets
PROJECT_SOCKET_S = 0.015  # per socket of a match
ROOM_SETUP_S = 0.004  # per baseline socket
HOLD_S = 0.012  # per held socket (memory)
HTTP_MOVE_S = 0.03  # per prelude move over HTTP, matches in parallel


def parse_configs(text: str, option: str = "--configs") -> list[str]:
    """``server/layer,...`` in order, without repeats."""
    keys: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        server, _, layer = item.partition("/")
        if server not in SERVERS or layer not in LAYERS:
            raise CommandError(f"{option}: {item!r} is not server/layer ({'|'.join(SERVERS)} / {'|'.join(LAYERS)})")
        if item not in keys:
            keys.append(item)
    return keys


def config_label(key: str) -> str:
    server, layer = key.split("/")
    return f"{server}, {layer} layer"


@dataclass
class Subject:
    """One configuration measured: this checkout's code on a server and layer,
    or an older version's (``--before``) from its own checkout."""

    key: str  # server/layer
    label: str
    database_url: str
    root: Path = ROOT
    protocol: int | None = None  # what the driver speaks to it; None: the driver's default
    before: bool = False
    shipped: bool = False
    run: dict[str, Any] = field(default_factory=dict)  # its figures, results["runs"]

    def config(self, database: str, processes: int = 1) -> Config:
        server, layer = self.key.split("/")
        return Config(server=server, layer=layer, database=database, processes=processes)


def _driver(kind: str, urls: list[str], matches: int, spectators: int, protocol: int | None) -> Driver:
    return Driver(kind, urls, matches, spectators, 2 if protocol is None else protocol)


def _database_name(url: str | None) -> str | None:
    return urlparse(url).path.lstrip("/") or None if url and url.startswith("postgres") else None


def _nice_rate(value: float) -> float:
    return round(value, 1) if value < 100 else float(round(value))


class Command(BaseCommand):
    help = "Measure the project against baselines in one run; writes a table, JSON, a PNG plot and performance.md."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--matches", type=int, default=200)
        parser.add_argument("--spectators", type=int, default=1, help="spectators per match")
        parser.add_argument("--duration", type=float, default=15, help="seconds per measured step")
        parser.add_argument("--rates", default="", help="offered moves/s, open loop, comma-separated (default: "
                            "--rate-fractions of the shipped configuration's saturated throughput)")  # fmt: skip
        parser.add_argument("--rate-fractions", default="0.125,0.25,0.375,0.5",
                            help="the open-loop rates as fractions of the shipped configuration's 1-process "
                            "saturated throughput of the same run")  # fmt: skip
        parser.add_argument("--target", action="store_true", help="also run 500 matches moving every second")
        parser.add_argument("--connections", type=int, default=5000)
        parser.add_argument("--polling-matches", type=int, default=20, help="matches followed; 0: no polling")
        parser.add_argument("--prelude", type=int, default=60, help="chess plies before polling and sockets follow")
        parser.add_argument("--protocols", default="1,2", help="socket protocols followed beside polling")
        parser.add_argument("--compressed", default="2", help="protocols also followed by a socket offering "
                            "permessage-deflate, as browsers do (its bytes counted off the wire)")  # fmt: skip
        parser.add_argument("--server", choices=SERVERS, default="daphne")
        parser.add_argument("--layer", choices=LAYERS, default="redis")
        parser.add_argument("--configs", default="", help="server/layer configurations, comma-separated, e.g. "
                            "daphne/redis,uvicorn/pubsub (default: --server/--layer; adds the shipped)")  # fmt: skip
        parser.add_argument("--shipped", default="", help="the shipped server/layer (default: read from the Procfile)")
        parser.add_argument("--before", default="", help="a revision (or checkout) of the code before: measured "
                            f"at {BEFORE_CONFIG}, from its own clone, as today's default")  # fmt: skip
        parser.add_argument("--shipped-only", action="store_true",
                            help="open-loop latency and memory on the shipped configuration only")  # fmt: skip
        parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
        parser.add_argument("--processes", type=int, default=2, help="also measure this many server processes")
        parser.add_argument("--profile", type=float, default=10, help="seconds of py-spy on the server; 0 for none")
        parser.add_argument("--out", default="docs", help="where performance.md, .json and .png go")
        parser.add_argument("--quick", action="store_true", help="a few seconds, tiny load: checks the tool works")
        parser.add_argument("--plan", action="store_true", help="print the steps and their estimated time, and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["quick"]:
            quick = {"matches": 3, "spectators": 1, "duration": 2, "rates": "", "rate_fractions": "0.25",
                     "connections": 20, "polling_matches": 2, "prelude": 10}  # fmt: skip
            options.update(quick, profile=0, target=False, before="")
        keys = parse_configs(options["configs"] or f"{options['server']}/{options['layer']}")
        shipped = parse_configs(options["shipped"] or shipped_config(), "--shipped")[0]
        if options["quick"]:
            keys = keys[:1]
        elif options["configs"] and shipped not in keys:
            keys.insert(0, shipped)  # the targets are the shipped configuration's
        primary = shipped if shipped in keys else keys[0]
        keys.sort(key=lambda key: key != primary)
        self.options, self.keys, self.primary, self.shipped = options, keys, primary, shipped
        steps = self.plan()
        total = sum(seconds for _, seconds in steps)
        self.stdout.write(f"plan: {len(steps)} steps, about {total / 60:.0f} min (configurations {', '.join(keys)}; "
                          f"shipped {shipped}{'' if primary == shipped else f', not measured: targets on {primary}'}"
                          f"{'; before ' + options['before'] if options['before'] else ''})")  # fmt: skip
        if options["plan"]:
            for name, seconds in steps:
                self.stdout.write(f"  {seconds:6.0f} s  {name}")
            return
        logging.getLogger("httpx").setLevel(logging.WARNING)
        raise_file_limit()
        started = time.monotonic()
        results = asyncio.run(self.measure())
        results["seconds"] = time.monotonic() - started
        results["estimated_seconds"] = total
        command = "python manage.py loadtest " + shlex.join(sys.argv[2:])
        report.write(results, Path(options["out"]), command)
        columns = ["configuration", "name", "moves_per_s", "p50_ms", "p99_ms", "cpu_total_ms_per_move"]
        self.stdout.write(report.table(results["saturated"], columns))
        latency = [row for run in results["runs"] for row in run["latency"]]
        self.stdout.write(report.table(latency, ["configuration", "offered_moves_per_s", "moves_per_s", "p50_ms",
                                                 "p99_ms", "max_ms", "incomplete"]))  # fmt: skip
        self.stdout.write(report.table(results["targets"], ["target", "measured", "met"]))
        self.stdout.write(f"wrote {options['out']}/performance.md, .json, .png in {results['seconds']:.0f} s "
                          f"(estimated {total:.0f} s)")  # fmt: skip
        if results["errors"]:
            raise CommandError(f"{len(results['errors'])} step(s) failed: " + "; ".join(results["errors"]))

    # --- the plan ------------------------------------------------------------

    def plan(self) -> list[tuple[str, float]]:
        """Every step of the run with a rough estimate of its seconds."""
        o = self.options
        m, s, d = o["matches"], o["spectators"], o["duration"]
        project = START_S + STEP_S + m * (PROJECT_SETUP_S + (2 + s) * PROJECT_SOCKET_S)
        room = START_S + STEP_S + m * (2 + s) * ROOM_SETUP_S
        subjects = [*self.keys, *([f"before ({o['before']}): {BEFORE_CONFIG}"] if o["before"] else [])]
        everywhere = subjects if not o["shipped_only"] else subjects[:1]
        steps = [("migrate a database", MIGRATE_S)]
        if o["before"]:
            steps.append((f"clone {o['before']} and migrate its database", MIGRATE_S + 5))
        steps.append(("websockets baseline", room + 2 * d + 2))
        for key in self.keys:
            steps.append((f"{key}: Channels relay", room + 2 * d + 2))
            steps.append((f"{key}: the project, 1 process", project + 2 * d + 2 + (0 if key != self.primary else 2)))
            if key.split("/")[1] != "memory" and o["processes"] > 1:
                steps.append((f"{key}: the project, {o['processes']} processes",
                              project + (o["processes"] - 1) * START_S + 2 * d + 2))  # fmt: skip
        if o["before"]:
            if BEFORE_CONFIG not in self.keys:
                steps.append((f"{BEFORE_CONFIG}: Channels relay (for before)", room + 2 * d + 2))
            steps.append((f"{subjects[-1]}: 1 process", project + 2 * d + 2))
            if o["processes"] > 1:
                steps.append((f"{subjects[-1]}: {o['processes']} processes",
                              project + (o["processes"] - 1) * START_S + 2 * d + 2))  # fmt: skip
        rates = len([r for r in o["rates"].split(",") if r]) or len([f for f in o["rate_fractions"].split(",") if f])
        for subject in everywhere:
            steps.append((f"{subject}: open loop at {rates} rate(s)", rates * (project + d + 2)))
        if o["target"]:
            target = START_S + STEP_S + 500 * (PROJECT_SETUP_S + 2 * PROJECT_SOCKET_S) + d + 2
            steps.append((f"{self.primary}: 500 matches, 500 moves/s", target))
        for subject in everywhere:
            steps.append(
                (f"{subject}: hold {o['connections']:,} sockets", START_S + STEP_S + 3 + o["connections"] * HOLD_S)
            )
        if o["polling_matches"] < 1:
            return steps
        move_every = min(2.0, d / 2)
        follow = START_S + STEP_S + 1 + max(d, 10) + 7 + min(5.0, d) + o["polling_matches"] * 0.2
        steps.append((f"{self.primary}: polling versus sockets, connect four", follow))
        prelude = o["prelude"] * HTTP_MOVE_S * max(1.0, o["polling_matches"] / 10)
        steps.append((f"{self.primary}: polling versus sockets, chess after {o['prelude']} plies",
                      follow + prelude + move_every))  # fmt: skip
        return steps

    # --- the run -------------------------------------------------------------

    async def measure(self) -> dict[str, Any]:
        o = self.options
        results: dict[str, Any] = {"machine": report.machine(), "saturated": [], "latency_by_rate": [], "errors": []}
        self.results = results
        results["config"] = {
            "label": f"{', '.join(self.keys)}; {o['database']}; 1 and {o['processes']} process(es)",
            "matches": o["matches"],
            "spectators": o["spectators"],
            "configs": self.keys,
            "shipped": self.shipped,
            "primary": self.primary,
            "database": o["database"],
            "processes": o["processes"],
            "before": o["before"] or None,
        }
        workdir = Path(tempfile.mkdtemp(prefix="games-bench-db-"))
        self.started = time.monotonic()
        subjects: list[Subject] = []
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            database_url = stack.enter_context(bench_database(Config(database=o["database"]), workdir))
            self.database_url = database_url
            for key in self.keys:
                label = config_label(key)
                subjects.append(Subject(key, label, database_url, shipped=key == self.shipped))
            before = None
            if o["before"]:
                before = self.checkout_before(o["before"], workdir / "before")
                (workdir / "before-db").mkdir()
                before.database_url = stack.enter_context(
                    bench_database(Config(database=o["database"]), workdir / "before-db", before.root)
                )
                results["config"]["before_commit"] = before.label
            await self.measure_all(subjects, before)
        runs = [*([before.run] if before else []), *(subject.run for subject in subjects)]
        results["runs"] = runs
        primary = subjects[0].run
        one, two, relay = primary["one"], primary["two"], primary["relay"]
        ws = results["websockets"]
        results["ratios"] = {
            "vs_websockets": _ratio(one, ws),
            "vs_relay": _ratio(one, relay),
            "two_processes": _ratio(two, one),
            "vs_before": _ratio(one, before.run["one"]) if before else None,
        }
        held = [row for row in results["latency_by_rate"] if row["p99_ms"] < 100 and not row["incomplete"]]
        results["highest_rate_under_100ms"] = max((row["offered_moves_per_s"] for row in held), default=None)
        results["targets"] = self.targets(results, primary, before.run if before else None)
        results["issue_table"] = self.issue_table(results)
        return results

    async def measure_all(self, subjects: list[Subject], before: Subject | None) -> None:
        o, results = self.options, self.results
        primary = subjects[0]
        for subject in [*subjects, *([before] if before else [])]:
            subject.run = {"key": subject.key, "label": subject.label, "before": subject.before,
                           "shipped": subject.shipped, "primary": subject is primary, "relay": None, "one": None,
                           "two": None, "latency": [], "connections": None}  # fmt: skip
        results["websockets"] = await self.saturated(WEBSOCKETS, "websockets", primary, 1, configuration="any")
        relays: dict[str, dict | None] = {}
        for subject in subjects:
            layer = subject.key.split("/")[1]
            relays[subject.key] = await self.saturated(f"Channels relay baseline ({layer} layer)", "relay", subject)
            subject.run["relay"] = relays[subject.key]
            profile = o["profile"] if subject is primary else 0
            subject.run["one"] = await self.saturated("the project, 1 process", "project", subject, profile=profile)
            if subject.key.split("/")[1] != "memory" and o["processes"] > 1:
                name = f"the project, {o['processes']} processes"
                subject.run["two"] = await self.saturated(name, "project", subject, o["processes"])
        if before:
            if before.key not in relays:
                relay = Subject(before.key, config_label(before.key), "")
                name = f"Channels relay baseline ({before.key.split('/')[1]} layer)"
                relays[before.key] = await self.saturated(name, "relay", relay)
            before.run["relay"] = relays[before.key]
            before.run["one"] = await self.saturated("the project, 1 process", "project", before)
            if o["processes"] > 1:
                name = f"the project, {o['processes']} processes"
                before.run["two"] = await self.saturated(name, "project", before, o["processes"])
        rates = self.rates(primary.run["one"])
        everywhere = [*subjects, *([before] if before else [])]
        if o["shipped_only"]:
            everywhere = [primary]
        for subject in everywhere:
            for rate in rates:
                row = await self.step(f"{subject.label}: {rate:g} moves/s offered", self.open_loop(subject, rate))
                if row:
                    subject.run["latency"].append(row)
        results["latency_by_rate"] = primary.run["latency"]
        if o["target"]:
            results["target"] = await self.step(f"{primary.label}: the target load",
                                                self.open_loop(primary, 500, matches=500, spectators=0))  # fmt: skip
        for subject in everywhere:
            subject.run["connections"] = await self.step(f"{subject.label}: {o['connections']} sockets",
                                                         self.connections(subject, o["connections"]))  # fmt: skip
        results["connections"] = primary.run["connections"]
        results["polling"] = await self.step("polling, connect four", self.polling(primary, "connect4", 0))
        results["polling_chess"] = await self.step(f"polling, chess after {o['prelude']} plies",
                                                   self.polling(primary, "chess", o["prelude"]))  # fmt: skip

    def checkout_before(self, where: str, scratch: Path) -> Subject:
        """The old version in a clone of its own (or a checkout given as a directory), checked to run its own code."""
        version = checkout("before", where, sys.executable, scratch)
        for module in ("games", "gameproject"):
            found = imported_from(version.root, module)
            if not found.is_relative_to(version.root):
                raise CommandError(f"--before: a server started in {version.root} imports {module} from {found}")
        self.stdout.write(f"  before: {version.root} at {version.commit}")
        label = f"before ({version.commit}): {config_label(BEFORE_CONFIG)}"
        # The driver speaks protocol 1, today's, to the old code.
        return Subject(BEFORE_CONFIG, label, "", root=version.root, protocol=1, before=True)

    def rates(self, shipped_one: dict | None) -> list[float]:
        o = self.options
        if o["rates"]:
            rates = [float(rate) for rate in o["rates"].split(",") if rate]
            self.results["rates"] = {"offered": rates, "fractions": None, "basis_moves_per_s": None, "half": None}
            return rates
        basis = shipped_one["moves_per_s"] if shipped_one else 0.0
        fractions = [float(f) for f in o["rate_fractions"].split(",") if f]
        rates = [_nice_rate(f * basis) for f in fractions if f * basis > 0]
        # The highest rate the latency target covers: the one at half, however it was rounded.
        half = max((_nice_rate(f * basis) for f in fractions if f * basis > 0 and f <= 0.5), default=None)
        self.results["rates"] = {"offered": rates, "fractions": fractions, "basis_moves_per_s": basis, "half": half}
        return rates

    async def step(self, name: str, work: Awaitable[T]) -> T | None:
        """One step: its figures, or None and the error kept (a quick run stops at once)."""
        try:
            return await work
        except Exception as error:
            if self.options["quick"]:
                raise
            message = f"{name}: {type(error).__name__}: {error}"
            self.results["errors"].append(message)
            self.stderr.write(f"  FAILED {message}")
            return None

    async def saturated(self, name: str, kind: str, subject: Subject, processes: int = 1, profile: float = 0,
                        configuration: str = "") -> dict | None:  # fmt: skip
        """Closed loop, the baselines or the project: a row of the saturated table."""
        configuration = configuration or subject.label
        return await self.step(f"{configuration}: {name}",
                               self._saturated(name, kind, subject, processes, profile, configuration))  # fmt: skip

    async def _saturated(self, name: str, kind: str, subject: Subject, processes: int, profile: float,
                         configuration: str) -> dict:  # fmt: skip
        o = self.options
        database_url = subject.database_url if kind == "project" else None
        root = subject.root if kind == "project" else ROOT
        with running(kind, subject.config(o["database"], processes), database_url, root) as servers:
            driver = _driver(kind, servers.urls, o["matches"], o["spectators"], subject.protocol)
            await driver.setup()
            spy = self.start_profile(servers.pids[0], profile) if profile else None
            row = await self.run_moves(driver, servers, database_url, o["duration"] * 2, None)
            await driver.close()
            if spy:
                self.results["profile"] = self.finish_profile(spy)
        row = {"configuration": configuration, "name": name, "processes": processes, **row}
        self.results["saturated"].append(row)
        self.progress(f"{configuration}: {name}: {row['moves_per_s']} moves/s, "
                      f"{row['cpu_total_ms_per_move']} ms CPU per move")  # fmt: skip
        return row

    async def run_moves(self, driver: Driver, servers: Running, database_url: str | None, duration: float,
                        interval: float | None) -> dict[str, Any]:  # fmt: skip
        """``Driver.run_moves`` with the CPU the servers, PostgreSQL and Redis spent on it, per move."""
        # The run's database: PostgreSQL backends of any other are told apart (another test run, say).
        database = _database_name(database_url or self.database_url)
        before = cpu.sample(servers.pids, database)
        row = await driver.run_moves(duration, interval)
        spent = cpu.spent(before, cpu.sample(servers.pids, database))
        return {**row, **cpu.per_move(spent, row["moves"])}

    def progress(self, text: str) -> None:
        self.stdout.write(f"  [{time.monotonic() - self.started:5.0f} s] {text}")

    async def open_loop(self, subject: Subject, rate: float, matches: int | None = None,
                        spectators: int | None = None) -> dict[str, Any]:  # fmt: skip
        o = self.options
        matches = o["matches"] if matches is None else matches
        spectators = o["spectators"] if spectators is None else spectators
        with running("project", subject.config(o["database"]), subject.database_url, subject.root) as servers:
            driver = _driver("project", servers.urls, matches, spectators, subject.protocol)
            await driver.setup()
            row = await self.run_moves(driver, servers, subject.database_url, o["duration"], matches / rate)
            await driver.close()
        self.progress(f"{subject.label}: {rate:g} moves/s offered ({matches} matches): p99 {row['p99_ms']} ms, "
                      f"{row['incomplete']} incomplete")  # fmt: skip
        return {"configuration": subject.label, "matches": matches, **row}

    async def connections(self, subject: Subject, count: int) -> dict[str, Any]:
        with running("project", subject.config(self.options["database"]), subject.database_url,
                     subject.root) as servers:  # fmt: skip
            pid = servers.pids[0]
            await asyncio.sleep(1)
            before = rss_bytes(pid)
            held = await hold_connections(servers.urls[0], count)
            await asyncio.sleep(2)
            after = rss_bytes(pid)
            await asyncio.gather(*(sock.close() for sock in held["sockets"]), return_exceptions=True)
        self.progress(f"{subject.label}: held {held['held']} of {count} sockets, "
                      f"{(after - before) / max(held['held'], 1) / 1024:.1f} KB each")  # fmt: skip
        return {
            "configuration": subject.label,
            "requested": count,
            "held": held["held"],
            "rss_before_mb": before / 2**20,
            "rss_after_mb": after / 2**20,
            "kb_per_connection": (after - before) / max(held["held"], 1) / 1024,
        }

    async def polling(self, subject: Subject, game: str, prelude: int) -> dict[str, Any] | None:
        """``polling_versus_sockets`` on ``game`` after ``prelude`` plies, every socket protocol and poll period."""
        o = self.options
        if o["polling_matches"] < 1:
            return None
        duration = o["duration"]
        periods = (0.2, 0.5) if o["quick"] else (1.0, 5.0)
        kwargs: dict[str, Any] = {"move_every": min(2.0, duration / 2), "idle": min(5.0, duration),
                                  "duration": duration if o["quick"] else max(duration, 10)}  # fmt: skip
        protocols = tuple(int(p) for p in o["protocols"].split(",") if p)
        compressed = tuple(int(p) for p in o["compressed"].split(",") if p)
        kwargs.update(game=game, prelude=prelude, protocols=protocols, compressed=compressed)
        with running("project", subject.config(o["database"]), subject.database_url, subject.root) as servers:
            result = await polling_versus_sockets(servers.urls[0], o["polling_matches"], periods, **kwargs)
        result["configuration"] = subject.label
        self.progress(f"polling, {game}: " + ", ".join(f"{mode} {result[mode]['bytes_per_delivered_move']} B"
                                                       for mode in result["modes"]))  # fmt: skip
        return result

    def start_profile(self, pid: int, seconds: float) -> tuple[subprocess.Popen, Path]:
        output = Path(tempfile.mkdtemp(prefix="games-bench-profile-")) / "stacks.txt"
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--format", "raw",
                   "--output", str(output), "--nonblocking", "--rate", "200"]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output

    def finish_profile(self, spy: tuple[subprocess.Popen, Path]) -> str:
        process, output = spy
        process.wait(timeout=120)
        if not output.exists():
            return "py-spy could not sample the server (it needs ptrace permission)."
        leaf: Counter = Counter()
        inclusive: Counter = Counter()
        total = 0
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            samples = int(count)
            total += samples
            leaf[_frame(frames[-1])] += samples
            for frame in set(map(_frame, frames)):
                inclusive[frame] += samples
        if not total:
            return "py-spy recorded no samples."
        rows = [{"frame": frame, "share": f"{100 * count / total:.1f}%"} for frame, count in leaf.most_common(12)]
        mine = [
            (frame, count) for frame, count in inclusive.most_common() if "games/" in frame or "gameproject" in frame
        ]
        rows_mine = [{"frame": frame, "share": f"{100 * count / total:.1f}%"} for frame, count in mine[:12]]
        return "\n\n".join([
            f"{total:,} samples. Where the CPU is when sampled (leaf frames):",
            report.table(rows, ["frame", "share"]),
            "Time spent inside the project's own functions (inclusive):",
            report.table(rows_mine, ["frame", "share"]),
        ])  # fmt: skip

    # --- what the run says ---------------------------------------------------

    def targets(self, results: dict[str, Any], primary: dict, before: dict | None) -> list[dict[str, Any]]:
        """Issue 11's five targets, each with its figure of this run and whether it is met."""
        o, rows = self.options, []

        def add(key: str, target: str, measured: str, met: bool | None, unmeasured: str = "not measured") -> None:
            verdict = {True: "yes", False: "no", None: unmeasured}[met]
            note = "Reason: see performance-notes.md" if met is False else ""
            rows.append({"id": key, "target": target, "measured": measured, "met": verdict, "note": note})

        where = primary["label"] + ("" if primary["shipped"] else f"; the shipped {self.shipped} was not measured")
        one, relay, two = primary["one"], primary["relay"], primary["two"]
        ratio = _ratio(one, relay)
        add("1a", f"full path per process ≥ 0.5 of the plain Channels relay, same server and layer ({where})",
            f"{ratio:.2f} ({_mps(one)} / {_mps(relay)} moves/s)" if ratio is not None else "not measured",
            None if ratio is None else ratio >= 0.5)  # fmt: skip
        ratio = _ratio(one, before["one"]) if before else None
        add("1b", "the shipped configuration ≥ 4 times today's default (before: daphne, Redis core layer, today's "
            "code), 1 process each",
            f"{ratio:.2f}x ({_mps(one)} / {_mps(before['one'])} moves/s, {before['label']})"
            if before and ratio is not None else "not measured (no --before)",
            None if ratio is None else ratio >= 4)  # fmt: skip
        basis = one["moves_per_s"] if one else 0.0
        half = results.get("rates", {}).get("half") or basis / 2
        within = [row for row in primary["latency"] if row["offered_moves_per_s"] <= half + 0.05]
        load = f"{o['matches']} matches, {o['spectators']} spectator(s) each"
        if (o["matches"], o["spectators"]) != (200, 1):
            load += " (the issue's: 200 and 1)"
        add("2a", f"{load}: p99 < 50 ms at every offered rate up to 1/2 of the shipped saturated throughput "
            f"({half:,.1f} moves/s)",
            "; ".join(f"{row['offered_moves_per_s']:g}/s: p99 {row['p99_ms']:,.1f} ms"
                      + (f", {row['incomplete']} incomplete" if row["incomplete"] else "") for row in within)
            or "no rate measured up to half",
            all(row["p99_ms"] < 50 and not row["incomplete"] for row in within) if within else None)  # fmt: skip
        target = results.get("target")
        add("2b", "500 matches, a move per match per second (500 offered moves/s), no spectators: p99 reported",
            f"p99 {target['p99_ms']:,.1f} ms (p50 {target['p50_ms']:,.1f} ms), {target['moves_per_s']:,.1f} moves/s "
            f"delivered, {target['incomplete']:,} incomplete; p99 < 50 ms: "
            f"{'yes' if target['p99_ms'] < 50 and not target['incomplete'] else 'no'}"
            if target else "not measured (no --target)",
            None, "reported" if target else "not measured")  # fmt: skip
        games = [("3 connect four", results.get("polling"), "connect four"),
                 ("3 chess", results.get("polling_chess"), f"chess after {o['prelude']} plies")]  # fmt: skip
        for key, result, game in games:
            measured, met = _bytes_target(result)
            add(key, f"{game}: a socket delivers a move in ≤ 1/10 of the bytes of polling every 1 s, and in fewer "
                "than polling every 5 s", measured, met)  # fmt: skip
        c = primary["connections"]
        if c:
            measured = f"{c['kb_per_connection']:.1f} KB per socket, {c['held']:,} of {c['requested']:,} held"
            met = c["held"] >= 5000 and c["kb_per_connection"] < 40 if c["requested"] >= 5000 else None
            unmeasured = f"not at 5,000 sockets (under 40 KB: {'yes' if c['kb_per_connection'] < 40 else 'no'})"
        else:
            measured, met, unmeasured = "not measured", None, "not measured"
        add("4", f"< 40 KB of server memory per held socket at 5,000 sockets ({where})", measured, met, unmeasured)
        ratio = _cpu_ratio(one, relay)
        ws = results.get("websockets")
        add("5a", "CPU per accepted move (server, PostgreSQL, Redis) ≤ 3 times the relay's, same server and layer",
            f"{ratio:.2f}x: project {_cpu(one)}, relay {_cpu(relay)}, bare websockets "
            f"{_cpu_ms(ws)} ms per move" if ratio is not None else "not measured",
            None if ratio is None else ratio <= 3)  # fmt: skip
        ratio = _cpu_ratio(two, one)
        speedup = _ratio(two, one)
        add("5b", f"{o['processes']} processes ≤ 1.1 times one process's CPU per move",
            f"{ratio:.2f}x: {_cpu(two)} with {o['processes']}, {_cpu(one)} with 1; throughput with "
            f"{o['processes']}: {_mps(two)} moves/s, {speedup:.2f}x one's (reported, not a target)"
            if ratio is not None and speedup is not None else "not measured",
            None if ratio is None else ratio <= 1.1)  # fmt: skip
        return rows

    def issue_table(self, results: dict[str, Any]) -> dict[str, Any]:
        """The issue's table: a row per configuration, before and after."""
        n = self.options["processes"]
        rates = results.get("rates", {}).get("offered", [])
        columns = ["configuration", "bare websockets", "Channels relay", "project, 1 process", "1 process / relay",
                   f"project, {n} processes", *(f"p99 at {rate:g}/s" for rate in rates), "memory per socket",
                   "CPU per move, project / relay"]  # fmt: skip
        rows = []
        for run in results["runs"]:
            tag = " (before: today's default)" if run["before"] else " (shipped)" if run["shipped"] else ""
            one, relay = run["one"], run["relay"]
            ratio = _ratio(one, relay)
            row: dict[str, Any] = {
                "configuration": run["label"] + tag,
                "bare websockets": _mps(results.get("websockets")),
                "Channels relay": _mps(relay),
                "project, 1 process": _mps(one),
                "1 process / relay": "-" if ratio is None else f"{ratio:.2f}",
                f"project, {n} processes": _mps(run["two"]),
            }
            by_rate = {round(row["offered_moves_per_s"], 1): row for row in run["latency"]}
            for rate in rates:
                measured = by_rate.get(round(rate, 1))
                cell = "-"
                if measured:
                    cell = f"{measured['p99_ms']:,.0f} ms"
                    if measured["incomplete"]:
                        cell += f" ({measured['incomplete']:,} incomplete)"
                row[f"p99 at {rate:g}/s"] = cell
            c = run["connections"]
            row["memory per socket"] = f"{c['kb_per_connection']:.1f} KB" if c else "-"
            row["CPU per move, project / relay"] = f"{_cpu_ms(one)} / {_cpu_ms(relay)} ms"
            rows.append(row)
        return {"columns": columns, "rows": rows}


def _frame(frame: str) -> str:
    """``function (path/to/file.py:line)`` without the line, and the path
    shortened to the package: relative to site-packages, to the project's
    root (wherever it is checked out) or to the standard library."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{settings.BASE_DIR}/", f"{sysconfig.get_paths()['stdlib']}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def _ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or not b["moves_per_s"]:
        return None
    return a["moves_per_s"] / b["moves_per_s"]


def _mps(row: dict | None) -> str:
    return "-" if not row else f"{row['moves_per_s']:,.1f}"


def _cpu_ms(row: dict | None, group: str = "total") -> str:
    value = row.get(f"cpu_{group}_ms_per_move") if row else None
    return "-" if value is None else f"{value:,.2f}"


def _cpu(row: dict | None) -> str:
    """Total CPU per move and its split."""
    split = ", ".join(f"{group} {_cpu_ms(row, group)}" for group in cpu.GROUPS)
    return f"{_cpu_ms(row)} ms ({split})"


def _cpu_ratio(a: dict | None, b: dict | None) -> float | None:
    x = a.get("cpu_total_ms_per_move") if a else None
    y = b.get("cpu_total_ms_per_move") if b else None
    return x / y if x is not None and y else None


def _bytes_target(result: dict | None) -> tuple[str, bool | None]:
    """Bytes per delivered move: the socket of the last mode listed (protocol 2, with compression offered as
    browsers do) against the shortest and longest poll periods."""
    if not result:
        return "not measured", None
    sockets = [mode for mode in result["modes"] if not mode.startswith("poll")]
    polls = [mode for mode in result["modes"] if mode.startswith("poll")]
    if not sockets or not polls:
        return "not measured", None
    figure = {mode: result[mode]["bytes_per_delivered_move"] for mode in result["modes"]}
    socket, fast, slow = sockets[-1], polls[0], polls[-1]
    share = figure[socket] / max(figure[fast], 1)
    others = [f"{mode} {figure[mode]:,} B" for mode in [*polls[1:], *sockets[:-1]]]
    measured = "; ".join([f"{socket} {figure[socket]:,} B", f"{fast} {figure[fast]:,} B (socket / poll {share:.2f})",
                          *others])  # fmt: skip
    met = bool(result[socket]["deliveries"]) and figure[socket] * 10 <= figure[fast] and figure[socket] < figure[slow]
    return measured, met
