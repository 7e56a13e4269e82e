"""The loops a server process runs beside its sockets: the presence
heartbeat, always, and the clock when it runs in-process (the embedded
default, where no separate worker could reach the in-memory layer).

They start with the first HTTP request or socket the process serves (daphne
has no lifespan events), so a restarted server flags overdue matches as soon
as anyone talks to it, even over HTTP only.

Other apps add loops of their own with :func:`run_beside` (from their
``AppConfig.ready``), without the engine knowing them: the worker
(``manage.py runclock``) runs every registered loop beside the clock, and a
server process runs those whose ``in_process()`` says so. An exception
escaping a registered loop is logged and the loop started again after
:data:`RESTART_PAUSE_SECONDS`, so one app's failing loop ends neither the
worker nor the other loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from games.clock import run_clock
from games.lifecycle import before_exit, watch_for_shutdown
from games.presence import run_heartbeat

logger = logging.getLogger(__name__)

RESTART_PAUSE_SECONDS = 2.0

_started: dict[asyncio.AbstractEventLoop, list[asyncio.Task]] = {}
# Per event loop: the event that asks its registered loops to finish, and their tasks.
_finishing: dict[asyncio.AbstractEventLoop, tuple[asyncio.Event, list[asyncio.Task]]] = {}

#: How long a shutting-down server waits for its registered loops to finish.
FINISH_SECONDS = 5.0

LoopFactory = Callable[[asyncio.Event | None], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class BesideLoop:
    """A loop another app runs beside the clock: ``factory(stop)`` returns
    the coroutine, which runs until ``stop`` is set (or it is cancelled)."""

    name: str
    factory: LoopFactory
    in_process: Callable[[], bool]


_beside: dict[str, BesideLoop] = {}


def run_beside(name: str, factory: LoopFactory, in_process: Callable[[], bool]) -> None:
    """Register a background loop under ``name`` (registering a name again
    replaces it): the worker always runs it; a server process runs it too
    when ``in_process()`` is true as its loops start."""
    _beside[name] = BesideLoop(name, factory, in_process)


def beside_loops() -> list[BesideLoop]:
    """Every registered loop, in the order registered."""
    return list(_beside.values())


async def keep_running(beside: BesideLoop, stop: asyncio.Event | None) -> None:
    """Run ``beside`` until ``stop`` is set (or the task is cancelled),
    starting it again :data:`RESTART_PAUSE_SECONDS` after any exception
    escapes it; a loop that returns on its own is not restarted."""
    while stop is None or not stop.is_set():
        try:
            await beside.factory(stop)
            return
        except Exception:
            logger.exception("the %s failed; starting it again in %g s", beside.name, RESTART_PAUSE_SECONDS)
        await _pause(RESTART_PAUSE_SECONDS, stop)


async def _pause(seconds: float, stop: asyncio.Event | None) -> None:
    """``seconds``, or less if ``stop`` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_worker(poll: float, stop: asyncio.Event) -> None:
    """The worker's loops (``manage.py runclock``) until ``stop`` is set: the
    clock, checking deadlines every ``poll`` seconds, and every registered loop."""
    await asyncio.gather(run_clock(poll, stop), *(keep_running(beside, stop) for beside in beside_loops()))


def ensure_started() -> None:
    """Start this event loop's background loops, once (called on connect)."""
    loop = asyncio.get_running_loop()
    if any(not task.done() for task in _started.get(loop, [])):
        return
    watch_for_shutdown()
    before_exit(finish)
    tasks = [loop.create_task(run_heartbeat(settings.GAMES_HEARTBEAT_SECONDS))]
    if settings.GAMES_CLOCK_IN_PROCESS:
        tasks.append(loop.create_task(run_clock(settings.GAMES_CLOCK_POLL_SECONDS)))
    finishing = asyncio.Event()
    beside = [loop.create_task(keep_running(each, finishing)) for each in beside_loops() if each.in_process()]
    _finishing[loop] = (finishing, beside)
    _started[loop] = [*tasks, *beside]


async def finish() -> None:
    """Ask this event loop's registered loops to finish as they would in the
    worker, and wait up to :data:`FINISH_SECONDS` (the server is shutting
    down: a real-time supervisor hands its matches over, for instance)."""
    finishing, tasks = _finishing.pop(asyncio.get_running_loop(), (None, []))
    if finishing is None or not tasks:
        return
    finishing.set()
    await asyncio.wait(tasks, timeout=FINISH_SECONDS)


async def stop() -> None:
    """Stop this event loop's background loops (tests, shutdown)."""
    _finishing.pop(asyncio.get_running_loop(), None)
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
