"""Server-side time: timeouts and abandonments are applied when their deadline
passes, even if nobody sends another message.

Deadlines are data (``Match.deadline_at``), so any process can enforce them
and a restart loses nothing. Enforcement goes through the same locked service
path as moves, so a move and a flag arriving together resolve to one outcome,
and several clock loops (several workers, or every web process) never apply
a deadline twice.

The same loop sweeps the sockets of server processes that died (see
``games.presence``), so their players' abandonment clocks start.

Production runs ``manage.py runclock`` (the Procfile's ``worker``). With the
in-memory channel layer a separate process could not reach the sockets, so
the embedded default runs the same loop inside the server process instead
(``GAMES_CLOCK_IN_PROCESS``, see ``games.background``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from games import services
from games.presence import sweep_stale

logger = logging.getLogger(__name__)
SWEEP_EVERY_SECONDS = 1.0

# Periodic work other apps add to every sweep (see every_sweep).
_sweep_tasks: list[Callable[[], object]] = []


def every_sweep(task: Callable[[], object]) -> Callable[[], object]:
    """Run ``task`` (synchronous; it may use the database) in every sweep of
    the clock loop, about once a second, wherever a clock loop runs (the
    worker, or each server process). This is how another app adds timed
    work (say, starting what is scheduled) without the engine knowing it:
    its ``AppConfig.ready`` registers the task. Registering a task twice
    runs it once. Returns ``task``, so it also works as a decorator."""
    if task not in _sweep_tasks:
        _sweep_tasks.append(task)
    return task


def _run_sweep_tasks() -> None:
    """Each registered task, a failure in one logged without stopping the others."""
    for task in list(_sweep_tasks):
        try:
            task()
        except Exception:
            logger.exception("clock sweep task %s failed", getattr(task, "__qualname__", task))


def sweep_period() -> float:
    """Sweep at least twice per heartbeat period, so a dead process's sockets
    are closed within three periods of its death."""
    return min(SWEEP_EVERY_SECONDS, settings.GAMES_HEARTBEAT_SECONDS / 2)


def settle_due(now: datetime | None = None) -> int:
    """Apply every deadline that has passed; returns how many matches changed."""
    changed = 0
    for match_id in services.due_matches(now or timezone.now()):
        try:
            changed += services.settle_deadline(match_id)
        except Exception:
            logger.exception("settling the deadline of match %s failed", match_id)
    return changed


async def run_clock(poll: float, stop: asyncio.Event | None = None) -> None:
    """Settle due deadlines every ``poll`` seconds; every second, also sweep
    dead servers' sockets and run the tasks apps registered with
    :func:`every_sweep`; until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    next_sweep = loop.time()
    while stop is None or not stop.is_set():
        try:
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + sweep_period()
                await database_sync_to_async(sweep_stale)()
                await database_sync_to_async(_run_sweep_tasks)()
            await database_sync_to_async(settle_due)()
        except Exception:
            logger.exception("clock tick failed")
        await asyncio.sleep(poll)
