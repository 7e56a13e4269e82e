import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand

from webhooks.sender import run_sender


class Command(BaseCommand):
    help = (
        "Send outgoing webhooks until SIGTERM or Ctrl-C (the worker, manage.py runclock, already runs this "
        "loop; use this command for a sender of its own)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self.serve())

    async def serve(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_sender(stop, ready=self.ready)

    def ready(self) -> None:
        self.stdout.write("webhook sender: ready", ending="\n")
        self.stdout.flush()
