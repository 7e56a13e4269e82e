import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.registry import Collector

from games.background import beside_loops, run_worker
from games.clock import settle_due


class ScrapeThenClose(Collector):
    """This process's metrics, after which the scraping thread hands back the
    database connection the deployment-wide gauges used (the metrics server
    answers each scrape on a new thread, whose connection would otherwise stay
    checked out of the pool for good)."""

    def collect(self) -> Any:
        try:
            yield from REGISTRY.collect()
        finally:
            connections.close_all()


class Command(BaseCommand):
    help = (
        "Apply clock flags, move timeouts and abandonments as their deadlines pass, and run the loops other "
        "apps register beside the clock (the Procfile's worker)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--poll", type=float, default=settings.GAMES_CLOCK_POLL_SECONDS, help="seconds between checks"
        )
        parser.add_argument("--once", action="store_true", help="settle what is due now and exit")
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=settings.GAMES_WORKER_METRICS_PORT,
            help="serve this process's Prometheus metrics at http://127.0.0.1:PORT/metrics (0: none)",
        )

    def handle(self, *args, poll: float, once: bool, metrics_port: int, **options) -> None:
        if once:
            self.stdout.write(f"settled {settle_due()} match(es)")
            return
        if metrics_port:
            # The worker's own counters and histograms (tick lateness, loops run), on loopback only
            # and without the web processes' METRICS_TOKEN: scrape it from the same host.
            served = CollectorRegistry(auto_describe=False)
            served.register(ScrapeThenClose())
            start_http_server(metrics_port, addr="127.0.0.1", registry=served)
            self.stdout.write(f"clock worker: metrics at http://127.0.0.1:{metrics_port}/metrics", ending="\n")
        asyncio.run(self.serve(poll))

    async def serve(self, poll: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        loops = beside_loops()
        self.stdout.write(f"clock worker: checking deadlines every {poll}s", ending="\n")
        for beside in loops:
            self.stdout.write(f"clock worker: also running the {beside.name}", ending="\n")
        self.stdout.flush()
        await run_worker(poll, stop)
