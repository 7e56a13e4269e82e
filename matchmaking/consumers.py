"""``/ws/queue/``: quick play over a socket. The client seeks and cancels;
the server answers ``seeking`` and pushes ``paired`` (or ``withdrawn``) to
every queue socket of the player. Thin: parse, call ``matchmaking.services``,
send the frames of ``matchmaking.frames``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from games import quotas
from games.consumers import PlayerSocket
from games.database_threads import on_database
from games.engine.errors import ErrorCode, GameError
from games.frames import Ref
from games.messages import BadMessage
from matchmaking import frames, holds, services
from matchmaking.messages import CancelIn, QueueMessage, SeekIn, parse_queue_message
from matchmaking.services import SeekView


class QueueConsumer(PlayerSocket):
    """One socket of a player in the queue. It holds at most one seek (the
    last it asked for); several sockets of one player seeking the same pool
    (tabs) hold the same seek, and closing the last of them withdraws it."""

    seek_id: int | None = None

    async def connect(self) -> None:
        self.announced: dict[int, str] = {}  # seek id -> the outcome this socket was told
        if not await self.open():
            return
        if self.player is not None:
            await self.join_group(services.player_group(self.player.pk))

    async def forget(self) -> None:
        holds.drop(self)
        if self.seek_id is not None:
            seek_id, self.seek_id = self.seek_id, None
            await on_database(services.release)(seek_id)

    # --- from the client ---------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.handling_ref = None
        try:
            self.limits.check("socket_messages", "messages")
            message = parse_queue_message(self.decode(text_data, bytes_data))
            self.handling_ref = message.ref
            self.limits.check("socket_moves", "seeks and cancels")
        except BadMessage as bad:
            await self.send_error(ErrorCode.BAD_MESSAGE, bad.message, bad.ref)
            return
        except quotas.RateLimited as limited:
            await self.send_refusal(limited, self.handling_ref)
            return
        if self.player is None:
            await self.send_error(ErrorCode.NOT_AUTHENTICATED, "enter a name (or send a ticket) to play", message.ref)
            return
        try:
            await self.handlers[type(message)](self, message)
        except GameError as refusal:
            await self.send_refusal(refusal, message.ref)

    async def on_seek(self, message: SeekIn) -> None:
        assert self.player is not None
        seek, _ = await on_database(services.seek)(
            self.player, message.game, message.options, message.bot_after, socket=True, holding=self.seek_id
        )
        if seek["status"] != "waiting":  # paired at once
            self.let_go()
            await self.tell(seek, message.ref)
            return
        self.seek_id = seek["id"]
        holds.add(self, seek["id"])
        waiting = await on_database(services.waiting_in)(seek["pool"])
        await self.send_frame(frames.seeking(seek, waiting, message.ref))

    async def on_cancel(self, message: CancelIn) -> None:
        assert self.player is not None
        target = message.seek or self.seek_id
        if target is None:
            raise GameError(ErrorCode.NOT_FOUND, "this socket holds no seek to cancel")
        await self.tell(await on_database(services.cancel)(self.player, target), message.ref)

    handlers: ClassVar[dict[type[QueueMessage], Callable[[QueueConsumer, Any], Awaitable[None]]]] = {
        SeekIn: on_seek,
        CancelIn: on_cancel,
    }

    # --- from the channel layer and the holds' refresh -------------------------

    async def queue_seek(self, message: dict[str, Any]) -> None:
        """What became of one of the player's seeks (from any process)."""
        await self.tell(message["seek"])

    async def tell(self, seek: SeekView, ref: Ref = None) -> None:
        """Announce that a seek was paired or withdrawn, once per socket
        (the news comes from the service's answer, the layer and the holds'
        refresh alike)."""
        frame = frames.outcome(seek, ref)
        if frame is None or self.announced.get(seek["id"]) == seek["status"]:
            return
        self.announced[seek["id"]] = seek["status"]
        if seek["id"] == self.seek_id:
            self.let_go()
        await self.send_frame(frame)

    def let_go(self) -> None:
        """The seek this socket held stopped waiting: nothing to release on close."""
        self.seek_id = None
        holds.drop(self)
