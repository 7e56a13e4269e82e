"""The loops a server process runs beside its sockets: the presence
heartbeat, always, and the clock when it runs in-process (the embedded
default, where no separate worker could reach the in-memory layer)."""

from __future__ import annotations

import asyncio

from django.conf import settings

from games.clock import run_clock
from games.presence import run_heartbeat

_started: dict[asyncio.AbstractEventLoop, list[asyncio.Task]] = {}


def ensure_started() -> None:
    """Start this event loop's background loops, once (called on connect)."""
    loop = asyncio.get_running_loop()
    if any(not task.done() for task in _started.get(loop, [])):
        return
    tasks = [loop.create_task(run_heartbeat(settings.GAMES_HEARTBEAT_SECONDS))]
    if settings.GAMES_CLOCK_IN_PROCESS:
        tasks.append(loop.create_task(run_clock(settings.GAMES_CLOCK_POLL_SECONDS)))
    _started[loop] = tasks
