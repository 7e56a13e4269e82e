"""``python manage.py loadtest``: the load benchmark. See README, Performance."""

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
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from bench import report

try:
    from bench.driver import Driver, hold_connections, polling_versus_sockets
    from bench.servers import Config, bench_database, raise_file_limit, rss_bytes, running
except ModuleNotFoundError as missing:  # a production install: requirements.txt alone
    raise ModuleNotFoundError(f"{missing}; the benchmark needs: pip install -r requirements-bench.txt") from missing


class Command(BaseCommand):
    help = "Measure the project against baselines in one run; writes a table, JSON, a PNG plot and performance.md."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--matches", type=int, default=200)
        parser.add_argument("--spectators", type=int, default=1, help="spectators per match")
        parser.add_argument("--duration", type=float, default=15, help="seconds per measured step")
        parser.add_argument("--rates", default="100,200,400,800", help="offered moves/s, open loop, comma-separated")
        parser.add_argument("--target", action="store_true", help="also run 500 matches moving every second")
        parser.add_argument("--connections", type=int, default=5000)
        parser.add_argument("--polling-matches", type=int, default=20)
        parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
        parser.add_argument("--layer", choices=["memory", "redis", "pubsub"], default="redis")
        parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
        parser.add_argument("--processes", type=int, default=2, help="also measure this many server processes")
        parser.add_argument("--profile", type=float, default=10, help="seconds of py-spy on the server; 0 for none")
        parser.add_argument("--out", default="docs", help="where performance.md, .json and .png go")
        parser.add_argument("--quick", action="store_true", help="a few seconds, tiny load: checks the tool works")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["quick"]:
            quick = {"matches": 3, "spectators": 1, "duration": 2, "rates": "5", "connections": 20}
            options.update(quick, polling_matches=2, profile=0, target=False)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        raise_file_limit()
        started = time.monotonic()
        config = Config(server=options["server"], layer=options["layer"], database=options["database"])
        results = asyncio.run(self.measure(config, options))
        results["seconds"] = time.monotonic() - started
        command = "python manage.py loadtest " + shlex.join(sys.argv[2:])
        report.write(results, Path(options["out"]), command)
        self.stdout.write(report.table(results["saturated"], ["name", "moves_per_s", "deliveries_per_s", "p50_ms",
                                                              "p99_ms"]))  # fmt: skip
        self.stdout.write(report.table(results["latency_by_rate"], ["offered_moves_per_s", "moves_per_s", "p50_ms",
                                                                    "p99_ms", "max_ms"]))  # fmt: skip
        self.stdout.write(f"wrote {options['out']}/performance.md, .json, .png in {results['seconds']:.0f} s")

    async def measure(self, config: Config, options: dict[str, Any]) -> dict[str, Any]:
        matches, spectators, duration = options["matches"], options["spectators"], options["duration"]
        results: dict[str, Any] = {"machine": report.machine(), "saturated": [], "latency_by_rate": []}
        results["config"] = {"label": config.label(), "matches": matches, "spectators": spectators}
        workdir = Path(tempfile.mkdtemp(prefix="games-bench-db-"))
        multi = config.layer != "memory" and options["processes"] > 1

        async def saturated(name: str, kind: str, cfg: Config, database_url: str | None, profile: float = 0) -> dict:
            with running(kind, cfg, database_url) as servers:
                driver = Driver(kind, servers.urls, matches, spectators)
                await driver.setup()
                spy = self.start_profile(servers.pids[0], profile) if profile else None
                row = {"name": name, **await driver.run_moves(duration * 2, None)}
                await driver.close()
                if spy:
                    results["profile"] = self.finish_profile(spy)
            self.stdout.write(f"  {name}: {row['moves_per_s']} moves/s")
            return row

        with bench_database(config, workdir) as database_url:
            results["saturated"].append(await saturated("websockets baseline (no validation, no database)",
                                                        "websockets", config, None))  # fmt: skip
            results["saturated"].append(await saturated(f"Channels relay baseline ({config.layer} layer)", "relay",
                                                        config, None))  # fmt: skip
            one = await saturated("the project, 1 process", "project", config, database_url, options["profile"])
            results["saturated"].append(one)
            two = None
            if multi:
                cfg = Config(**{**config.__dict__, "processes": options["processes"]})
                two = await saturated(f"the project, {cfg.processes} processes", "project", cfg, database_url)
                results["saturated"].append(two)
            for rate in [float(r) for r in options["rates"].split(",") if r]:
                results["latency_by_rate"].append(await self.open_loop(config, database_url, matches, spectators,
                                                                       rate, duration))  # fmt: skip
            if options["target"]:
                results["target"] = await self.open_loop(config, database_url, 500, 0, 500, duration)
            results["connections"] = await self.connections(config, database_url, options["connections"])
            periods = (0.2, 0.5) if options["quick"] else (1.0, 5.0)
            with running("project", config, database_url) as servers:
                results["polling"] = await polling_versus_sockets(
                    servers.urls[0],
                    options["polling_matches"],
                    periods,
                    move_every=min(2.0, duration / 2),
                    duration=duration if options["quick"] else max(duration, 10),
                    idle=min(5.0, duration),
                )
        websockets_row, relay_row = results["saturated"][0], results["saturated"][1]
        results["ratios"] = {
            "vs_websockets": one["moves_per_s"] / max(websockets_row["moves_per_s"], 1e-9),
            "vs_relay": one["moves_per_s"] / max(relay_row["moves_per_s"], 1e-9),
            "two_processes": (two["moves_per_s"] / max(one["moves_per_s"], 1e-9)) if two else None,
        }
        held = [row for row in results["latency_by_rate"] if row["p99_ms"] < 100 and not row["incomplete"]]
        results["highest_rate_under_100ms"] = max((row["offered_moves_per_s"] for row in held), default=None)
        results["targets"] = self.targets(results)
        return results

    async def open_loop(self, config: Config, database_url: str, matches: int, spectators: int, rate: float,
                        duration: float) -> dict[str, Any]:  # fmt: skip
        with running("project", config, database_url) as servers:
            driver = Driver("project", servers.urls, matches, spectators)
            await driver.setup()
            row = await driver.run_moves(duration, matches / rate)
            await driver.close()
        self.stdout.write(f"  {rate} moves/s offered: p99 {row['p99_ms']} ms")
        return row

    async def connections(self, config: Config, database_url: str, count: int) -> dict[str, Any]:
        with running("project", config, database_url) as servers:
            pid = servers.pids[0]
            await asyncio.sleep(1)
            before = rss_bytes(pid)
            held = await hold_connections(servers.urls[0], count)
            await asyncio.sleep(2)
            after = rss_bytes(pid)
            await asyncio.gather(*(sock.close() for sock in held["sockets"]), return_exceptions=True)
        self.stdout.write(f"  held {held['held']} of {count} sockets")
        return {
            "requested": count,
            "held": held["held"],
            "rss_before_mb": before / 2**20,
            "rss_after_mb": after / 2**20,
            "kb_per_connection": (after - before) / max(held["held"], 1) / 1024,
        }

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

    def targets(self, results: dict[str, Any]) -> list[dict[str, Any]]:
        c, r = results["connections"], results["ratios"]
        rows = [
            {"target": "≥ 5,000 concurrent match sockets on one process", "measured": f"{c['held']:,} held",
             "met": "yes" if c["held"] >= 5000 else "no"},
            {"target": "< 40 KB server memory per connection", "measured": f"{c['kb_per_connection']:.1f} KB",
             "met": "yes" if c["kb_per_connection"] < 40 and c["held"] else "no"},
            {"target": "full path ≥ 50% of the websockets upper bound", "measured": f"{r['vs_websockets']:.0%}",
             "met": "yes" if r["vs_websockets"] >= 0.5 else "no"},
            {"target": "full path ≥ the plain Channels relay", "measured": f"{r['vs_relay']:.0%}",
             "met": "yes" if r["vs_relay"] >= 1 else "no"},
        ]  # fmt: skip
        if r.get("two_processes") is not None:
            rows.append({"target": "2 processes ≥ 1.6x one", "measured": f"{r['two_processes']:.2f}x",
                         "met": "yes" if r["two_processes"] >= 1.6 else "no"})  # fmt: skip
        target = results.get("target")
        if target:
            rows.append({"target": "500 matches, a move per match per second: p99 < 50 ms",
                         "measured": f"p99 {target['p99_ms']} ms, {target['incomplete']} incomplete",
                         "met": "yes" if target["p99_ms"] < 50 and not target["incomplete"] else "no"})  # fmt: skip
        return rows


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
