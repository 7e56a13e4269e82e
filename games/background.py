"""The loops a server process runs beside its sockets: the presence
heartbeat, always, and the clock when it runs in-process (the embedded
default, where no separate worker could reach the in-memory layer).

They start with the first HTTP request or socket the process serves (daphne
has no lifespan events), so a restarted server flags overdue matches as soon
as anyone talks to it, even over HTTP only."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings

from games.clock import run_clock
from games.lifecycle import watch_for_shutdown
from games.presence import run_heartbeat

_started: dict[asyncio.AbstractEventLoop, list[asyncio.Task]] = {}


def ensure_started() -> None:
    """Start this event loop's background loops, once (called on connect)."""
    loop = asyncio.get_running_loop()
    if any(not task.done() for task in _started.get(loop, [])):
        return
    watch_for_shutdown()
    tasks = [loop.create_task(run_heartbeat(settings.GAMES_HEARTBEAT_SECONDS))]
    if settings.GAMES_CLOCK_IN_PROCESS:
        tasks.append(loop.create_task(run_clock(settings.GAMES_CLOCK_POLL_SECONDS)))
    _started[loop] = tasks


async def stop() -> None:
    """Stop this event loop's background loops (tests, shutdown)."""
    tasks = _started.pop(asyncio.get_running_loop(), [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def with_background_tasks(application: Any) -> Any:
    """Wrap the ASGI application so its first request starts the loops."""

    async def app(scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] in ("http", "websocket"):
            ensure_started()
        return await application(scope, receive, send)

    return app
