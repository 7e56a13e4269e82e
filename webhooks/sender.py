"""Posting messages: the asynchronous side of the sender.

:func:`run_sender` is the long-running loop (the worker's, or each server
process's in the embedded default; ``manage.py sendwebhooks`` runs it alone).
It wakes when this process commits deliveries (the outbox's hooks), on
PostgreSQL when any process does (``LISTEN webhooks``), and at least every
``WEBHOOKS_POLL_SECONDS`` for retries that come due. It keeps claiming while
attempts are in flight, within ``WEBHOOKS_CONCURRENCY`` attempts at once and
``WEBHOOKS_CONCURRENCY_PER_ENDPOINT`` per endpoint; failing endpoints get
one slot each and half the slots at most between them, so however many
endpoints are slow or dead, the healthy ones keep half the slots.

Claims and records run on the sender's own database threads
(:mod:`webhooks.delivery`); each attempt itself is :func:`webhooks.http.attempt`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import cache
from typing import Any, ParamSpec, TypeVar

import httpx
import psycopg
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections

from webhooks import delivery, outbox
from webhooks.delivery import ClaimedDelivery
from webhooks.http import attempt, new_client

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

PRUNE_EVERY_SECONDS = 300.0
LISTEN_RETRY_SECONDS = 5.0
LISTEN_CHECK_SECONDS = 60.0


# --- database calls -------------------------------------------------------------


@cache
def _executor() -> ThreadPoolExecutor:
    """The sender's own database threads, so its claims and records never
    queue behind (or in front of) the sockets' database calls."""
    threads = 1 if connections["default"].vendor == "sqlite" else 2
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhooks-db")


def on_database(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``func`` as a coroutine function on the sender's database threads
    (Django's connections are closed around each call, so a pooled one goes
    back to the pool)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_executor())


def failing_budget() -> int:
    """Slots of a sender that failing endpoints may take between them: half
    (at least one), so healthy endpoints always keep the rest."""
    return max(1, settings.WEBHOOKS_CONCURRENCY // 2)


def new_sender_id() -> str:
    """A name for one sender (host, process, a random part), at most 40 characters."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"


# --- one attempt, recorded -------------------------------------------------------


async def deliver(client: httpx.AsyncClient, claimed: ClaimedDelivery) -> None:
    """One attempt, recorded. If recording fails (the database is away), the
    claim lapses and the delivery is attempted again."""
    outcome = await attempt(client, claimed)
    try:
        await on_database(delivery.record)(claimed, outcome)
    except Exception:
        logger.exception("recording the attempt of %s to endpoint %s failed", claimed.message_id, claimed.endpoint_id)


# --- public API -----------------------------------------------------------------


async def send_due(sender_id: str | None = None, limit: int = 100) -> int:
    """Send what is due now and wait for the outcomes; returns the number of
    attempts made (at most ``limit``). Claims in rounds of up to
    ``WEBHOOKS_CONCURRENCY``, each sent concurrently, until nothing is due:
    a retry that comes due at once (a zero delay) is attempted in a later round."""
    sender_id = sender_id or new_sender_id()
    made = 0
    async with new_client() as client:
        while made < limit:
            batch = min(settings.WEBHOOKS_CONCURRENCY, limit - made)
            claimed = await on_database(delivery.claim)(sender_id, batch, failing_budget())
            if not claimed:
                break
            await asyncio.gather(*(deliver(client, item) for item in claimed))
            made += len(claimed)
    return made


async def run_sender(stop: asyncio.Event | None = None, ready: Callable[[], None] | None = None) -> None:
    """Send webhooks until ``stop`` is set (or the task is cancelled).
    ``ready`` is called once the sender listens and has made its first claim.
    On stop, attempts in flight get ``WEBHOOKS_TIMEOUT_SECONDS`` to finish;
    any still running then are abandoned, and their claims simply lapse."""
    await _SenderLoop(stop or asyncio.Event()).run(ready)


class _SenderLoop:
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.wake = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.sender_id = new_sender_id()
        self.in_flight: set[asyncio.Task[None]] = set()
        self.failing_in_flight: set[asyncio.Task[None]] = set()
        self.next_prune = 0.0

    def poke(self) -> None:
        """Wake the loop; called from any thread (the outbox's commit hook)."""
        with suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(self.wake.set)

    async def run(self, ready: Callable[[], None] | None) -> None:
        outbox.on_new_deliveries(self.poke)
        listener = self.loop.create_task(self.listen()) if connections["default"].vendor == "postgresql" else None
        try:
            async with new_client() as client:
                try:
                    await self.serve(client, ready)
                    await self.drain(settings.WEBHOOKS_TIMEOUT_SECONDS)
                finally:
                    await self.abandon()
        finally:
            outbox.forget_hook(self.poke)
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

    async def serve(self, client: httpx.AsyncClient, ready: Callable[[], None] | None) -> None:
        while not self.stop.is_set():
            self.wake.clear()
            more = await self.fill(client)
            await self.prune_now_and_then()
            if ready is not None:
                ready()
                ready = None
            if not more:
                await self.sleep(settings.WEBHOOKS_POLL_SECONDS)

    async def fill(self, client: httpx.AsyncClient) -> bool:
        """Claim as many due deliveries as there are free slots and start
        them; True when every slot was filled (more may be due)."""
        room = settings.WEBHOOKS_CONCURRENCY - len(self.in_flight)
        if room <= 0:
            return False
        try:
            failing_room = failing_budget() - len(self.failing_in_flight)
            claimed = await on_database(delivery.claim)(self.sender_id, room, max(0, failing_room))
        except Exception:
            logger.exception("claiming webhook deliveries failed")
            return False
        for item in claimed:
            task = self.loop.create_task(deliver(client, item))
            self.in_flight.add(task)
            if item.failing:
                self.failing_in_flight.add(task)
            task.add_done_callback(self.finished)
        return len(claimed) == room

    def finished(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        self.failing_in_flight.discard(task)
        self.wake.set()

    async def sleep(self, seconds: float) -> None:
        """Until woken, stopped, or ``seconds`` pass."""
        waits = [self.loop.create_task(self.wake.wait()), self.loop.create_task(self.stop.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def prune_now_and_then(self) -> None:
        if self.loop.time() < self.next_prune:
            return
        self.next_prune = self.loop.time() + PRUNE_EVERY_SECONDS
        try:
            await on_database(delivery.prune)()
        except Exception:
            logger.exception("deleting old webhook messages failed")

    async def drain(self, grace: float) -> None:
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=grace)

    async def abandon(self) -> None:
        pending = list(self.in_flight)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def listen(self) -> None:
        """Wake on every ``NOTIFY webhooks`` (any process's commit), on a
        connection of its own; reconnect after any failure."""
        params = _listen_params()
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(autocommit=True, **params) as conn:
                    await conn.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
                    self.wake.set()  # what was committed while nobody listened
                    while True:
                        async for _ in conn.notifies(timeout=LISTEN_CHECK_SECONDS):
                            self.wake.set()
                        await conn.execute("SELECT 1")  # a dead connection fails here
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("listening for webhook notifications failed; retrying", exc_info=True)
                await asyncio.sleep(LISTEN_RETRY_SECONDS)


def _listen_params() -> dict[str, Any]:
    """The database's connection parameters, for a plain async connection."""
    params = connections["default"].get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    return params
