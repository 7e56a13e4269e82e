"""Tick frames to this process's sockets: one copy per process, not per socket.

A live real-time match sends a frame 20 times a second. Sent to the match's
group, that is one channel-layer message per socket watching it, each
crossing Redis and the layer's receive on its own, a cost that grows with
the viewers (an overloaded process fell behind on them). So the owner
sends each frame to the match's *frames group* (``broadcast.frames_group``),
whose members are processes, not sockets: the relay of every process with
a socket on the match. A process's relay reads its one channel and hands
each frame to its sockets of that match in memory, each in its own turn
(the socket's :meth:`~Watcher.relayed` waits for whatever the socket is
doing, so a frame never overtakes a snapshot being sent).

A relay starts with the first real-time socket of its process, on a layer
instance of its own (as the supervisor's: see ``supervisor.own_layer``); its
channel is in a match's frames group while a socket here watches the match
(joined again at every new watcher and every ``REFRESH_SECONDS``, in case
the layer lost it), and leaves it with the last. Frames are not events: a
frame lost on the way (a Redis outage, a process that restarted) shows as a
gap, which the client resyncs from a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from channels.layers import InMemoryChannelLayer

from games.broadcast import frames_group

logger = logging.getLogger(__name__)

STOP = "realtime.relay.stop"
RETRY_SECONDS = 0.5
#: How often a relay joins its matches' frames groups again.
REFRESH_SECONDS = 10.0
#: At most this long for one group change on the layer.
LAYER_SECONDS = 2.0


class Watcher(Protocol):
    """A socket showing a real-time match."""

    def relayed(self, message: dict[str, Any]) -> Any: ...


class Relay:
    """This process's (this event loop's) frames, handed to its sockets."""

    def __init__(self) -> None:
        self.layer: Any = None
        self.channel = ""
        self.watchers: dict[int, set[Watcher]] = {}
        self.changing = asyncio.Lock()  # the layer's groups, one change at a time
        self.tasks: list[asyncio.Task[None]] = []  # listening, refreshing
        self.handing: set[asyncio.Future[Any]] = set()  # frames on their way to sockets

    async def watch(self, match_id: int, watcher: Watcher) -> None:
        """Hand ``watcher`` the match's frames from now on."""
        self.watchers.setdefault(match_id, set()).add(watcher)
        await self._start()
        await self._sync(match_id)

    def unwatch(self, match_id: int, watcher: Watcher) -> None:
        """Stop handing ``watcher`` frames, at once; :meth:`leave` then takes
        this process out of the group if nobody here watches any more."""
        watching = self.watchers.get(match_id)
        if watching is not None:
            watching.discard(watcher)
            if not watching:
                del self.watchers[match_id]

    async def leave(self, match_id: int) -> None:
        if match_id not in self.watchers and self.layer is not None:
            await self._sync(match_id)

    async def _sync(self, match_id: int) -> None:
        """Make the layer's group agree with ``watchers`` as it is now: in
        the group while a socket here watches the match (added again at
        every new watcher, which also renews an expired or lost membership)."""
        async with self.changing:
            group = frames_group(match_id)
            if match_id in self.watchers:
                await asyncio.wait_for(self.layer.group_add(group, self.channel), LAYER_SECONDS)
            else:
                await asyncio.wait_for(self.layer.group_discard(group, self.channel), LAYER_SECONDS)

    async def _start(self) -> None:
        async with self.changing:
            if self.tasks and not any(task.done() for task in self.tasks):
                return
            for task in self.tasks:
                task.cancel()
            if self.layer is None:
                from games.realtime.supervisor import own_layer

                self.layer = own_layer()
                self.channel = await self.layer.new_channel()
            self.tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._refresh())]

    async def _listen(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("real-time relay: receiving failed", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if message.get("type") == STOP:
                return
            try:
                self.deliver(message)
            except Exception:
                logger.exception("real-time relay: handing a frame to the sockets failed")

    async def _refresh(self) -> None:
        """Join every watched match's group again now and then: a Redis that
        restarted empty has forgotten the groups, and its frames would
        otherwise never come back to this process's sockets."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for match_id in list(self.watchers):
                try:
                    await self._sync(match_id)
                except Exception:
                    logger.warning("real-time relay: joining match %s's frames again failed", match_id, exc_info=True)

    def deliver(self, message: dict[str, Any]) -> None:
        """Each socket watching the match takes the frame in its own turn."""
        for watcher in list(self.watchers.get(message.get("match", -1), ())):
            task = asyncio.ensure_future(watcher.relayed(message))
            self.handing.add(task)
            task.add_done_callback(self.handing.discard)

    async def stop(self) -> None:
        """Stop listening and close the layer's connections: with a message
        of its own rather than by cancelling the receive (a receive
        cancelled mid-way can hang channels-redis)."""
        if not self.tasks:
            return
        listener, refresher = self.tasks
        refresher.cancel()
        if not listener.done():
            await self.layer.send(self.channel, {"type": STOP})
            done, _ = await asyncio.wait({listener}, timeout=2)
            if not done:
                listener.cancel()
        self.tasks = []
        if hasattr(self.layer, "close_pools"):
            await self.layer.close_pools()
        elif not isinstance(self.layer, InMemoryChannelLayer):  # the pub/sub layer's connections
            await self.layer.flush()


_relays: dict[asyncio.AbstractEventLoop, Relay] = {}


async def stop_relay() -> None:
    """Stop this event loop's relay, if it started (tests, at their end)."""
    running = _relays.pop(asyncio.get_running_loop(), None)
    if running is not None:
        await running.stop()


def relay() -> Relay:
    """This event loop's relay (one per process; tests run several loops)."""
    loop = asyncio.get_running_loop()
    if loop not in _relays:
        for other in [other for other in _relays if other.is_closed()]:
            del _relays[other]
        _relays[loop] = Relay()
    return _relays[loop]
