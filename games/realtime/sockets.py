"""A match socket's side of a real-time match: where its player's inputs go
and where its snapshots come from.

The owner of a live match is on whichever process holds its lease; its
process channel is in the lease row. A socket reads the row once and keeps
it (:class:`OwnerLink`) until a ``tick`` frame shows a new epoch (another
process took over) or the process it sent to says it does not run the
match (``realtime.elsewhere``).

A snapshot of a live match comes from its owner, as of the tick it last ran
(the database holds the match only as of its last logged tick): the socket
sends ``realtime.snapshot`` with a reply channel of its own and waits up to
``GAMES_REALTIME_SNAPSHOT_SECONDS``. No answer (nobody owns the match yet,
or its owner just died): the stored match, which the next owner resumes from.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import get_channel_layer

from games.database_threads import on_database
from games.engine.clocks import format_time
from games.engine.match import MatchData, Status
from games.engine.realtime import RealtimeGame
from games.realtime import config, lease
from games.realtime.lease import LeaseView
from games.realtime.supervisor import INPUT, SNAPSHOT, STATE

Live = dict[str, Any]


class OwnerLink:
    """One socket's way to a match's owner."""

    def __init__(self, match_id: int, game: RealtimeGame) -> None:
        self.match_id, self.game = match_id, game
        self.view: LeaseView | None = None

    async def lease(self) -> LeaseView | None:
        """The match's lease (``None``: the match is not active), read once
        it names an owner (until then, at every call: the owner is about to
        take it, within the countdown)."""
        if self.view is None or not self.view.channel:
            self.view = await on_database(lease.current)(self.match_id)
        return self.view

    def forget(self) -> None:
        """Read the lease again next time (the owner changed)."""
        self.view = None

    def saw_epoch(self, epoch: int) -> None:
        if self.view is not None and self.view.epoch != epoch:
            self.forget()

    async def send_input(
        self, seat: int, sent: Any, reply: str, ref: Any, tick: int | None, again: bool = False
    ) -> bool:
        """Hand an input to the owner; ``False``: the match is not active.
        With nobody owning the match yet (a moment at its start, or while
        another process takes it over) the input is dropped, as one in
        flight when an owner dies is. ``again``: sent a second time, after
        the first owner asked said it does not run the match."""
        view = await self.lease()
        if view is None:
            return False
        if view.channel:
            message = {"type": INPUT, "match": self.match_id, "seat": seat, "input": sent, "reply": reply,
                       "ref": ref, "sent": tick, "again": again}  # fmt: skip
            await get_channel_layer().send(view.channel, message)
        return True

    async def live(self) -> Live | None:
        """The owner's state of the match, as of the last tick it ran; ``None``
        when nobody answers in time."""
        self.forget()
        view = await self.lease()
        if view is None or not view.channel:
            return None
        layer = get_channel_layer()
        reply = await layer.new_channel()
        await layer.send(view.channel, {"type": SNAPSHOT, "match": self.match_id, "reply": reply})
        receiving = asyncio.ensure_future(layer.receive(reply))
        done, _ = await asyncio.wait({receiving}, timeout=config.snapshot_seconds())
        if not done:
            # End the receive with an answer of our own rather than cancel
            # it: a receive cancelled mid-way can hang channels-redis.
            await layer.send(reply, {"type": STATE, "match": self.match_id, "state": None})
        answer: Live = await receiving
        return answer if answer.get("state") is not None else None

    async def snapshot(self, data: MatchData) -> tuple[MatchData, Live]:
        """The match to show in a snapshot, with the owner's state when the
        match is active, and the snapshot's ``realtime`` object."""
        live = None
        if data["status"] == Status.ACTIVE:
            live = await self.live()
        else:
            self.forget()
        return live_match(data, self.game, live, self.view)


def live_match(
    data: MatchData, game: RealtimeGame, live: Live | None, view: LeaseView | None
) -> tuple[MatchData, Live]:
    """The match to show in a snapshot (the owner's state when it is ahead
    of the stored one) and the snapshot's ``realtime`` object."""
    state, epoch = data["state"], view.epoch if view is not None else 0
    starts_at = format_time(view.started_at) if view is not None else None
    if live is not None and data["status"] == Status.ACTIVE and live["tick"] >= state["tick"]:
        state, epoch, starts_at = live["state"], live["epoch"], live["starts_at"]
    realtime = {
        "tick_ms": game.tick_ms,
        "frame_every": game.frame_every,
        "inputs_per_tick": game.inputs_per_tick,
        "epoch": epoch,
        "tick": state["tick"],
        "starts_at": starts_at,
    }
    return {**data, "state": state}, realtime
