import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from games.background import beside_loops, run_worker
from games.clock import settle_due


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

    def handle(self, *args, poll: float, once: bool, **options) -> None:
        if once:
            self.stdout.write(f"settled {settle_due()} match(es)")
            return
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
