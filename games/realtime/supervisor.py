"""The supervisor: one per process (every server process and the worker),
taking over real-time matches nobody owns and running their loops.

Every ``RENEW_SECONDS``, and at once when this process makes a real-time
match active, it looks for active matches whose lease has lapsed and takes
each over (``games.realtime.lease.take_over``); the one process whose
conditional UPDATE matched runs the match's :class:`~games.realtime.loop.MatchLoop`.

It also owns this process's channel on the channel layer (one per
supervisor, made with ``new_channel``: only this process reads it), on a
layer instance of its own (:func:`own_layer`). Sockets
on any process send it their players' inputs and snapshot requests for the
matches it runs (``MatchLease.channel`` says where); it hands each to the
match's loop and answers the socket's reply channel. Messages:

* ``realtime.input`` ``{match, seat, input, reply, ref, sent}``: queued for
  the next tick; a refusal answers ``realtime.refused`` ``{code, message, ref}``.
* ``realtime.snapshot`` ``{match, reply}``: answered ``realtime.state``
  ``{match, tick, state, epoch, starts_at}`` (``state`` null: not running it here).
* For a match it does not run (the loop stopped, or moved): ``realtime.elsewhere``
  ``{match, channel, seat, input, ref, sent}``, so the socket looks the owner up again.
* ``realtime.over`` ``{match}``: the match ended by another path (a
  resignation, abandonment, an abort), sent after that commit: the loop
  stops at once rather than at its next renewal.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from contextlib import suppress
from typing import Any

from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers, get_channel_layer
from django.db import transaction

from games import broadcast
from games.database_threads import on_database
from games.engine.match import MatchData, Status
from games.models import Match
from games.presence import SERVER_ID
from games.realtime import config, lease
from games.realtime.loop import MatchLoop, Refusal, give_up

logger = logging.getLogger(__name__)

INPUT = "realtime.input"
SNAPSHOT = "realtime.snapshot"
STATE = "realtime.state"
REFUSED = "realtime.refused"
ELSEWHERE = "realtime.elsewhere"
OVER = "realtime.over"
STOP = "realtime.stop"  # to itself: stop listening

STOP_SECONDS = 2.0

LISTEN_RETRY_SECONDS = 0.5

# The running supervisors of this process (one, but tests run several as
# several "processes"), for :func:`wake`.
_running: weakref.WeakSet[Supervisor] = weakref.WeakSet()


class Supervisor:
    """Takes over lapsed matches and runs their loops, until stopped."""

    def __init__(self, owner: str | None = None, layer: Any = None) -> None:
        self.owner = owner or f"{SERVER_ID}:{uuid.uuid4().hex[:6]}"
        self.layer = layer  # where it reads its channel; None: a layer of its own (see own_layer)
        self.channel = ""
        self.loops: dict[int, MatchLoop] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.woken: asyncio.Event | None = None

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Supervise until ``stop`` is set (or the task is cancelled); the
        loops it runs then stop and hand their matches over at once."""
        owned = self.layer is None
        layer = self.layer = self.layer or own_layer()
        self.channel = await layer.new_channel()
        self.event_loop, self.woken = asyncio.get_running_loop(), asyncio.Event()
        listener = asyncio.create_task(self.listen(layer))
        _running.add(self)
        try:
            while stop is None or not stop.is_set():
                await self.claim()
                await self.pause(stop)
        finally:
            _running.discard(self)
            await self.stop_listening(layer, listener)
            await self.stop_loops()
            if owned and hasattr(layer, "close_pools"):  # a Redis layer's connections
                await layer.close_pools()

    async def stop_listening(self, layer: Any, listener: asyncio.Task[None]) -> None:
        """End the listener with a message of its own rather than by
        cancelling it: a receive cancelled mid-way can hang channels-redis."""
        with suppress(Exception):
            await layer.send(self.channel, {"type": STOP})
        done, _ = await asyncio.wait({listener}, timeout=STOP_SECONDS)
        if not done:
            listener.cancel()

    async def pause(self, stop: asyncio.Event | None) -> None:
        """Until the next look: ``RENEW_SECONDS``, or less when woken or stopped."""
        assert self.woken is not None
        waits = [asyncio.ensure_future(self.woken.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        _, pending = await asyncio.wait(waits, timeout=config.renew_seconds(), return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()
        self.woken.clear()

    def wake(self) -> None:
        """Look for lapsed leases now (from any thread)."""
        if self.event_loop is None or self.woken is None:
            return
        with suppress(RuntimeError):  # the event loop has closed
            self.event_loop.call_soon_threadsafe(self.woken.set)

    async def claim(self) -> None:
        """Take over every lapsed match this process does not run already."""
        try:
            lapsed = await on_database(lease.lapsed)()
        except Exception:
            logger.warning("real-time supervisor: looking for lapsed leases failed", exc_info=True)
            return
        for match_id in lapsed:
            if match_id not in self.loops:
                await self.take(match_id)

    async def take(self, match_id: int) -> MatchLoop | None:
        asked = time.monotonic()
        try:
            taken = await on_database(lease.take_over)(match_id, self.owner, self.channel)
        except Exception:
            logger.warning("real-time supervisor: taking over match %s failed", match_id, exc_info=True)
            return None
        if taken is None:
            return None
        logger.info("real-time match %s: running it from tick %s (epoch %s)", match_id, taken.tick, taken.epoch)
        try:
            loop = MatchLoop(taken, renewed_at=asked)
        except Exception as failure:  # catching up ran the game's code, which failed
            await give_up(match_id, taken.epoch, "catching up", failure)
            return None
        self.loops[match_id] = loop
        task = asyncio.create_task(loop.run())
        self.tasks[match_id] = task
        task.add_done_callback(lambda _: self._forget(match_id, loop))
        return loop

    def _forget(self, match_id: int, loop: MatchLoop) -> None:
        if self.loops.get(match_id) is loop:
            del self.loops[match_id]
            del self.tasks[match_id]

    async def stop_loops(self) -> None:
        """Stop every loop; hand their matches over (their leases lapse now)."""
        running = list(self.loops.values())
        for loop in running:
            loop.stop("the supervisor stopped")
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        for loop in running:
            try:
                await on_database(lease.hand_over)(loop.match_id, loop.epoch)
            except Exception:
                logger.warning("real-time match %s: handing over failed", loop.match_id, exc_info=True)

    # --- the process channel ---------------------------------------------------

    async def listen(self, layer: Any) -> None:
        while True:
            try:
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("real-time supervisor: receiving failed", exc_info=True)
                await asyncio.sleep(LISTEN_RETRY_SECONDS)
                continue
            if message.get("type") == STOP:
                return
            try:
                await self.dispatch(layer, message)
            except Exception:
                logger.exception("real-time supervisor: handling %s failed", message.get("type"))

    async def dispatch(self, layer: Any, message: dict[str, Any]) -> None:
        loop = self.loops.get(message.get("match", -1))
        running = loop is not None and not loop.stopped and loop.holds_lease()
        if message["type"] == INPUT:
            answer = self.on_input(loop, message) if running else self.elsewhere(message)
        elif message["type"] == SNAPSHOT:
            live = loop.snapshot() if loop is not None and running else {"match": message["match"], "state": None}
            answer = {**live, "type": STATE}
        elif message["type"] == OVER:
            if loop is not None:
                loop.stop("the match ended (a resignation, abandonment or abort)")
            return
        else:
            logger.warning("real-time supervisor: unknown message %r", message.get("type"))
            return
        if answer is not None:
            await layer.send(message["reply"], answer)

    def on_input(self, loop: MatchLoop | None, message: dict[str, Any]) -> dict[str, Any] | None:
        assert loop is not None
        try:
            loop.take_input(message["seat"], message["input"])
        except Refusal as refusal:
            return {"type": REFUSED, "code": refusal.code, "message": refusal.message, "ref": message.get("ref")}
        return None

    def elsewhere(self, message: dict[str, Any]) -> dict[str, Any]:
        return {**message, "type": ELSEWHERE, "channel": self.channel}


def own_layer() -> Any:
    """The channel layer a supervisor reads its channel on: an instance of
    its own on Redis. channels-redis lets one receive at a time per layer
    instance wait on Redis (for up to 5 s) for a given channel prefix, so a
    supervisor always waiting on the process's shared instance would hold up
    every other reader there with another prefix (the bots' worker, the
    health check). The in-memory layer exists once per process: shared."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return layer
    return channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)


def wake() -> None:
    """Have this process's supervisors look for lapsed leases now."""
    for supervisor in list(_running):
        supervisor.wake()


def on_status_changed(sender: Any, match: Match, data: MatchData, previous: str, **kwargs: Any) -> None:
    """``match_status_changed`` receiver: a real-time match that becomes
    active gets its lease (and this process's supervisor takes it at once,
    after commit); one that ends loses it."""
    game = lease.realtime_game(data["game"])
    if game is None:
        return
    if data["status"] == Status.ACTIVE and previous != Status.ACTIVE:
        lease.open_lease(match, game)
        transaction.on_commit(wake, robust=True)
    elif Status(data["status"]).over:
        owner, match_id = lease.close_lease(match.pk), match.pk
        if owner:
            message = {"type": OVER, "match": match_id}
            transaction.on_commit(lambda: broadcast.send_to_channel(owner, message), robust=True)


async def supervise(stop: asyncio.Event | None) -> None:
    """The loop ``games.background`` runs beside the others."""
    await Supervisor().run(stop)
