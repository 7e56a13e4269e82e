"""Database calls from sockets, on a pool of threads.

Channels' ``database_sync_to_async`` runs every database call of a process on
one thread, so a move waits behind every other match's move even though the
row lock already keeps each match's writes in order. Sockets use
:func:`on_database` instead: the same wrapper (Django's connections are
cleaned around each call) on ``GAMES_DATABASE_THREADS`` threads, each with
its own connection from psycopg's pool. One socket's calls still run one
after another (a consumer awaits each), and writers of one match still queue
on its row lock, so nothing about ordering changes.

The embedded default (SQLite) keeps one thread: SQLite has one writer at a
time, and more threads would only queue on its file lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, ParamSpec, TypeVar

from channels.db import DatabaseSyncToAsync
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")


_calls = threading.local()


class _OnDatabase(DatabaseSyncToAsync):
    """Channels' wrapper, remembering which event loop the call came from."""

    def thread_handler(self, loop: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any) -> Any:
        _calls.loop = loop
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _calls.loop = None


def calling_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop whose socket this database thread is working for, if any:
    what it sends afterwards can be handed to that loop rather than waited for."""
    return getattr(_calls, "loop", None)


@cache
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.GAMES_DATABASE_THREADS, thread_name_prefix="games-db")


def on_database(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``func`` as a coroutine function run on the database threads."""
    return _OnDatabase(func, thread_sensitive=False, executor=executor())
