"""``python manage.py benchwebhooks``: outgoing webhooks under load (see
``bench/webhooks_load.py``). On PostgreSQL and Redis at 127.0.0.1 (a fresh
bench database, dropped afterwards), one daphne process and one
``manage.py sendwebhooks`` process: the move path with no endpoint (the
baseline), with an endpoint that answers at once (with the sender running,
and paused), one that answers too late and one that is down, each measured
``--rounds`` times in alternating order, as ratios to the baseline; and, for
the endpoint that answers, the time from each event to the receiver's 2xx
and how many of the messages written arrived. Prints the figures and writes
them to ``<out>/webhooks.json`` and into ``<out>/performance.md`` (between
its markers). About 3.5 minutes with the defaults."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

try:
    from bench.webhooks_load import Options, markdown, run, write_figures
except ModuleNotFoundError as missing:  # a production install: requirements.txt alone
    raise ModuleNotFoundError(f"{missing}; the benchmark needs: pip install -r requirements-bench.txt") from missing


class Command(BaseCommand):
    help = "Outgoing webhooks under load: delivery time to a local receiver, and the move path's cost."

    def add_arguments(self, parser: Any) -> None:
        defaults = Options()
        parser.add_argument("--matches", type=int, default=defaults.matches, help="connect-four matches")
        parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds per condition")
        parser.add_argument(
            "--move-interval",
            type=float,
            default=defaults.move_interval,
            help="seconds between a match's moves (open loop); 0: as fast as the server answers",
        )
        parser.add_argument(
            "--churn-rate", type=float, default=defaults.churn_rate, help="tic-tac-toe matches started per second"
        )
        parser.add_argument("--spectators", type=int, default=defaults.spectators, help="per connect-four match")
        parser.add_argument(
            "--slow-seconds", type=float, default=defaults.slow_seconds, help="the slow receiver's delay"
        )
        parser.add_argument(
            "--drain-seconds",
            type=float,
            default=defaults.drain_seconds,
            help="at most this long for the healthy endpoint's last deliveries after the load",
        )
        parser.add_argument(
            "--rounds",
            type=int,
            default=defaults.rounds,
            help="measurements of each condition, in alternating order (2: baseline, healthy, slow, down, down, ...)",
        )
        parser.add_argument("--postgres-url", default=defaults.postgres_url)
        parser.add_argument("--redis-url", default=defaults.redis_url)
        parser.add_argument("--out", default="docs", help="where webhooks.json and performance.md are")

    def handle(self, *args: Any, **o: Any) -> None:
        if min(o["matches"], o["rounds"]) < 1 or min(o["duration"], o["churn_rate"]) <= 0 or o["move_interval"] < 0:
            raise CommandError("--matches, --rounds, --duration and --churn-rate must be positive")
        options = Options(
            matches=o["matches"],
            duration=o["duration"],
            move_interval=o["move_interval"],
            churn_rate=o["churn_rate"],
            spectators=o["spectators"],
            slow_seconds=o["slow_seconds"],
            drain_seconds=o["drain_seconds"],
            rounds=o["rounds"],
            postgres_url=o["postgres_url"],
            redis_url=o["redis_url"],
        )
        results = asyncio.run(run(options, self.progress))
        self.stdout.write(markdown(results))
        out = Path(o["out"])
        out.mkdir(parents=True, exist_ok=True)
        (out / "webhooks.json").write_text(json.dumps(results, indent=2) + "\n")
        write_figures(out / "performance.md", results)
        self.stdout.write(f"wrote {out / 'webhooks.json'} and the webhooks section of {out / 'performance.md'}")

    def progress(self, text: str) -> None:
        self.stdout.write(f"  {text}")
        self.stdout.flush()
