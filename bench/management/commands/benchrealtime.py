"""``python manage.py benchrealtime``: real-time matches under load (issue 14;
see ``bench/realtime_load.py``). On PostgreSQL and Redis at 127.0.0.1 (a
fresh bench database, dropped afterwards) and daphne: the tick lateness of
one server process running N light-cycles matches of 4 players and a
spectator, N growing until its p99 reaches 5 ms, with the server's CPU per
tick per match, once with the loops in that process and once in a worker
(``manage.py runclock``) beside it (``--loops``); the time from a player's input to every screen holding the
frame that applied it, beside the loopback ping of the same run; the time
from kill -9 of a match's owner to the first tick of the new owner; the
bytes per second a player's socket receives. Prints the figures and writes
them to ``<out>/realtime.json`` and into ``<out>/performance.md`` (between
its markers). About 8 minutes with the defaults; ``--quick`` well under one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

try:
    from bench.realtime_load import LOOPS, Options, markdown, quick_options, run, write_figures
except ModuleNotFoundError as missing:  # a production install: requirements.txt alone
    raise ModuleNotFoundError(f"{missing}; the benchmark needs: pip install -r requirements-bench.txt") from missing


class Command(BaseCommand):
    help = "Real-time matches under load: tick punctuality, input latency, failover, bytes per player."

    def add_arguments(self, parser: Any) -> None:
        defaults = Options()
        parser.add_argument(
            "--sweep",
            default=",".join(map(str, defaults.sweep)),
            help="match counts N for one server process, in order; the sweep stops at the first whose p99 is 5 ms+",
        )
        parser.add_argument(
            "--moderate", type=int, default=defaults.moderate, help="the N also reported beside the largest"
        )
        parser.add_argument("--window", type=float, default=defaults.window, help="seconds measured at each N")
        parser.add_argument("--warm-up", type=float, default=defaults.warm_up, help="seconds before each window")
        parser.add_argument("--turn-min", type=float, default=defaults.turn_min, help="least seconds between turns")
        parser.add_argument("--turn-max", type=float, default=defaults.turn_max, help="most seconds between turns")
        parser.add_argument(
            "--two-player-matches",
            type=int,
            default=defaults.two_player_matches,
            help="matches of the 2-player run (bytes per second); 0: the largest N the sweep held",
        )
        parser.add_argument("--failovers", type=int, default=defaults.failovers, help="kill -9 runs")
        parser.add_argument("--postgres-url", default=defaults.postgres_url)
        parser.add_argument("--redis-url", default=defaults.redis_url)
        parser.add_argument(
            "--loops",
            default=",".join(defaults.loops),
            help="where figure 1's match loops run, comma-separated: web (the daphne that holds the sockets), "
            "worker (a manage.py runclock beside it); default both",
        )
        parser.add_argument("--quick", action="store_true", help="a short run that only shows the tool works")
        parser.add_argument("--out", default="docs", help="where realtime.json and performance.md are")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            sweep = tuple(int(n) for n in str(o["sweep"]).split(",") if n.strip())
        except ValueError:
            raise CommandError("--sweep is a comma-separated list of match counts") from None
        if not sweep or min(sweep) < 1 or sorted(sweep) != list(sweep) or o["window"] <= 0 or o["failovers"] < 0:
            raise CommandError("--sweep must be positive and increasing, --window positive")
        loops = tuple(dict.fromkeys(part.strip() for part in str(o["loops"]).split(",") if part.strip()))
        if not loops or not set(loops) <= set(LOOPS):
            raise CommandError(f"--loops is a comma-separated list of {', '.join(LOOPS)}")
        if not 0 < o["turn_min"] <= o["turn_max"]:
            raise CommandError("--turn-min must be positive and at most --turn-max")
        options = Options(
            sweep=sweep,
            moderate=o["moderate"],
            window=o["window"],
            warm_up=o["warm_up"],
            turn_min=o["turn_min"],
            turn_max=o["turn_max"],
            two_player_matches=o["two_player_matches"],
            failovers=o["failovers"],
            postgres_url=o["postgres_url"],
            redis_url=o["redis_url"],
            loops=loops,
        )
        if o["quick"]:
            options = quick_options(options)
        results = asyncio.run(run(options, self.progress))
        self.stdout.write(markdown(results))
        out = Path(o["out"])
        out.mkdir(parents=True, exist_ok=True)
        (out / "realtime.json").write_text(json.dumps(results, indent=2) + "\n")
        write_figures(out / "performance.md", results)
        self.stdout.write(f"wrote {out / 'realtime.json'} and the real-time section of {out / 'performance.md'}")

    def progress(self, text: str) -> None:
        self.stdout.write(f"  {text}")
        self.stdout.flush()
