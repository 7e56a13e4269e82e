"""The seeks this server process holds through its queue sockets, kept
alive while their sockets are open.

A seek held by sockets lapses ``MATCHMAKING_HOLD_SECONDS`` after it was last
refreshed, so a seek whose server died (its sockets' closes never recorded)
is withdrawn by the next wave after that. While a process holds sockets on
seeks, it refreshes them every quarter of that period; the same refresh tells
the sockets of seeks that were paired or withdrawn meanwhile, in case the
channel layer lost the news (it delivers at most once).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from django.conf import settings

from games.database_threads import on_database
from matchmaking import services
from matchmaking.services import SeekView

logger = logging.getLogger(__name__)


class Holder(Protocol):
    async def tell(self, seek: SeekView) -> None: ...


_held: dict[Holder, int] = {}  # socket -> the seek it holds
_refreshing: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def add(socket: Holder, seek_id: int) -> None:
    """``socket`` holds ``seek_id`` from now on (its previous seek, if any, no more)."""
    _held[socket] = seek_id
    loop = asyncio.get_running_loop()
    task = _refreshing.get(loop)
    if task is None or task.done():
        _refreshing[loop] = loop.create_task(_refresh_while_held())


def drop(socket: Holder) -> None:
    """``socket`` holds nothing any more; the refresh stops once nothing is held."""
    _held.pop(socket, None)
    if not _held:
        for loop, task in list(_refreshing.items()):
            if loop.is_closed():
                _refreshing.pop(loop)
            elif loop is _running_loop():
                _refreshing.pop(loop)
                task.cancel()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def held() -> dict[Holder, int]:
    """A copy of what this process holds (tests, metrics)."""
    return dict(_held)


async def refresh() -> None:
    """Keep this process's held seeks waiting; tell the sockets of those that ended."""
    if not _held:
        return
    ended = await on_database(services.hold)(set(_held.values()))
    for seek in ended:
        for socket in [socket for socket, seek_id in _held.items() if seek_id == seek["id"]]:
            try:
                await socket.tell(seek)
            except Exception:
                logger.warning("telling a queue socket about seek %s failed", seek["id"], exc_info=True)


async def _refresh_while_held() -> None:
    """Refresh every quarter hold period until nothing is held."""
    while _held:
        await asyncio.sleep(settings.MATCHMAKING_HOLD_SECONDS / 4)
        try:
            await refresh()
        except Exception:
            logger.exception("refreshing the held seeks failed")
