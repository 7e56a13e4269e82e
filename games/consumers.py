"""The match WebSocket: parse, authenticate, call the service, send.

Each client message is parsed into a typed message at the edge
(``games.messages``) and routed to a small handler; every frame sent is built
by ``games.frames``.

Ordering is kept here rather than trusted to the channel layer (which promises
neither delivery nor order): a match socket remembers the last ``seq`` it sent
its client (``games.sequencing``), drops anything older, and fills any gap
from the database before sending a newer event. A client therefore sees
events in seq order without gaps for as long as its socket lives.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import cached_property
from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.exceptions import ChannelFull, StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from games import frames, inputs, lifecycle, monitoring, presence, quotas, services
from games.accounts import player_for_user
from games.broadcast import frame_of, layer_match, match_group, text_for
from games.database_threads import on_database
from games.engine import IllegalMove, get_game
from games.engine.errors import ErrorCode
from games.engine.match import Event, EventKind, MatchData, Presence, Status, seat_of
from games.engine.realtime import RealtimeGame
from games.frames import Ref
from games.lobby import LOBBY_GROUP, lobby_message
from games.messages import (
    ActionIn,
    BadMessage,
    ChatIn,
    ClientMessage,
    InputIn,
    MoveIn,
    ResyncIn,
    parse_client_message,
    protocol_of,
)
from games.models import Player
from games.outcomes import Current, Step
from games.realtime.relay import relay
from games.realtime.sockets import OwnerLink
from games.sequencing import Arrival, Sequence

logger = logging.getLogger(__name__)

CLOSE_UNKNOWN_MATCH = 4404
CLOSE_BAD_TICKET = 4401
CLOSE_TOO_MANY = 4429
CLOSE_SERVICE_RESTART = lifecycle.CLOSE_SERVICE_RESTART
LAYER_TIMEOUT = 2.0  # seconds a group_discard may take when a socket ends
FRAMES_WAITING = 40  # relayed tick frames a busy socket may have waiting (2 s at 20 Hz)


class PlayerSocket(AsyncWebsocketConsumer):
    """What every socket does first: accept (a close code needs an accepted
    socket), refuse a bad ticket with 4401, and find the player, if any.

    And what every socket does last, whatever ends it (a close, an exception
    in any handler, a channel-layer or database outage, the server shutting
    down): :meth:`release`, once, in an order where nothing that can fail
    comes before forgetting the socket (see ``games.presence.forget``).
    """

    player: Player | None = None
    turn: asyncio.Lock  # held while a message is handled: one at a time, in order
    groups_joined: tuple[str, ...] = ()
    quotas_held: tuple[tuple[quotas.SocketQuota, str | int], ...] = ()
    released: bool = False
    handling_ref: Ref = None  # the ref of the client message being handled

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.turn = asyncio.Lock()
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            # The server is shutting down (daphne cancels every connection):
            # tell the client to reconnect elsewhere now.
            await self.quietly(self.close(code=CLOSE_SERVICE_RESTART), "closing on shutdown")
            raise
        finally:
            await self.release()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """A failing handler costs its message, not the socket: the error is
        logged, the client told, and the socket goes on. Only a failed
        connect ends it (and :meth:`release` still runs)."""
        try:
            handler = getattr(self, get_handler_name(message), None)
            if handler is None:
                raise ValueError(f"no handler for message type {message['type']}")
            # Not Channels' dispatch: it hops onto the database thread to close
            # old connections before every message, which on_database
            # already does around each database call.
            async with self.turn:
                await handler(message)
        except StopConsumer:
            raise
        except Exception:
            if message["type"] == "websocket.connect":
                raise
            logger.exception("socket %s: handling %s failed", self.scope.get("path"), message["type"])
            if message["type"] == "websocket.receive":
                failed = self.send_error(
                    ErrorCode.SERVER_ERROR, "the server failed to handle that message", self.handling_ref
                )
                await self.quietly(failed, "")

    async def open(self) -> bool:
        await self.accept()
        lifecycle.opened(self)
        if lifecycle.draining:
            await self.close(code=CLOSE_SERVICE_RESTART)
            return False
        if self.scope.get("ticket_rejected"):
            await self.close(code=CLOSE_BAD_TICKET)
            return False
        self.player = self.scope.get("player") or await on_database(player_for_user)(self.scope.get("user"))
        try:
            await on_database(self.count_open)()
            self.hold(quotas.sockets_per_address, self.address, settings.GAMES_MAX_SOCKETS_PER_ADDRESS)
            if self.player is not None:
                self.hold(quotas.sockets_per_player, self.player.pk, settings.GAMES_MAX_SOCKETS_PER_PLAYER)
        except quotas.RateLimited as limited:
            await self.send_error(limited.code, limited.message, None, limited.retry_after)
            await self.close(code=CLOSE_TOO_MANY)
            return False
        return True

    @cached_property
    def limits(self) -> quotas.SocketLimits:
        """This socket's message counters, made at its first message."""
        return quotas.SocketLimits()

    @cached_property
    def address(self) -> str:
        """The client's address, as the limits count it (see ``quotas.client_address``)."""
        headers = dict(self.scope.get("headers") or [])
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin1")
        return quotas.client_address(forwarded, (self.scope.get("client") or [None])[0])

    def count_open(self) -> None:
        """Sockets opened, per address and per player, across processes."""
        quotas.check_shared("address_socket_opens", self.address, "sockets opened from your address")
        if self.player is not None:
            quotas.check_shared("player_socket_opens", self.player.pk, "sockets opened")

    def hold(self, quota: quotas.SocketQuota, key: str | int, maximum: int) -> None:
        quota.hold(key, maximum)
        self.quotas_held = (*self.quotas_held, (quota, key))

    async def join_group(self, group: str) -> None:
        self.groups_joined = (*self.groups_joined, group)
        await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        await self.release()

    async def release(self) -> None:
        """Undo everything the socket holds, once; each step on its own, so a
        failure of one (the database, the layer) cannot skip the others."""
        if self.released:
            return
        self.released = True
        lifecycle.closed(self)
        for quota, key in self.quotas_held:
            quota.release(key)
        await self.quietly(self.forget(), "recording the close")
        for group in self.groups_joined:
            await self.quietly(
                asyncio.wait_for(self.channel_layer.group_discard(group, self.channel_name), LAYER_TIMEOUT),
                f"leaving {group}",
            )

    async def shut_down(self) -> None:
        """The server is going away: the client should reconnect elsewhere now."""
        await self.quietly(self.close(code=CLOSE_SERVICE_RESTART), "closing on shutdown")
        await self.release()

    async def forget(self) -> None:
        """What this kind of socket records when it ends (presence)."""

    async def quietly(self, step: Awaitable[Any], what: str) -> None:
        try:
            await step
        except Exception:
            if what:
                logger.warning("socket %s: %s failed", self.scope.get("path"), what, exc_info=True)

    async def send_frame(self, frame: frames.Frame) -> None:
        await self.send(text_data=frames.dumps(frame))

    async def send_error(
        self, code: ErrorCode | str, message: str, ref: Ref = None, retry_after: int | None = None
    ) -> None:
        await self.send_frame(frames.error(code, message, ref, retry_after))

    async def send_refusal(self, refusal: services.GameError, ref: Ref) -> None:
        await self.send_error(refusal.code, refusal.message, ref, getattr(refusal, "retry_after", None))

    def decode(self, text_data: str | None, bytes_data: bytes | None) -> Any:
        """A client frame's JSON, or :class:`BadMessage`: binary, over
        ``GAMES_WS_MAX_MESSAGE_BYTES``, or unsafe (deep nesting, NUL...)."""
        if text_data is None:
            raise BadMessage("binary frames are not supported; send JSON text")
        limit = settings.GAMES_WS_MAX_MESSAGE_BYTES
        if len(text_data) > limit or len(text_data.encode()) > limit:
            raise BadMessage(f"message larger than {limit} bytes")
        try:
            return inputs.loads(text_data)
        except inputs.UnsafeInput as unsafe:
            raise BadMessage(str(unsafe)) from None


class ListeningSocket(PlayerSocket):
    """A socket the server only pushes to."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            self.limits.check("socket_messages", "messages")
        except quotas.RateLimited as limited:
            await self.send_error(limited.code, limited.message, None, limited.retry_after)
            return
        await self.send_error(ErrorCode.BAD_MESSAGE, "this socket only listens")


class MatchConsumer(PlayerSocket):
    """``/ws/matches/<id>/``: a match's events, in seq order without gaps,
    as this socket's seat (or a spectator) may see them; and the player's
    actions and chat.

    A real-time match's socket also forwards its ``tick`` frames, in tick
    order from the snapshot's tick on, and hands its player's inputs to the
    match's owner (``games.realtime.sockets``)."""

    seat: int | None = None
    owner: OwnerLink | None = None  # a real-time match's
    match_status: str = Status.WAITING  # as of the last snapshot or event sent
    frames_waiting = 0  # relayed frames waiting for this socket's turn
    ticks_sent = -1  # the last tick this socket's client holds
    tick_epoch = 0  # the owner epoch of that tick

    async def connect(self) -> None:
        self.match_id = int(self.scope["url_route"]["kwargs"]["match_id"])
        self.protocol = protocol_of(self.scope.get("query_string", b""))
        self.sequence = Sequence()
        self.own_refs: dict[int, Ref] = {}
        if not await self.open():
            return
        # Join the group before reading the snapshot: an event committed in
        # between arrives later with seq <= the snapshot's and is dropped.
        await self.join_group(match_group(self.match_id))
        try:
            latest, self.seat = await on_database(presence.socket_opened)(self.match_id, self.player, self.channel_name)
        except services.GameError:
            await self.close(code=CLOSE_UNKNOWN_MATCH)
            return
        game = get_game(latest.match["game"])
        if isinstance(game, RealtimeGame):
            self.owner = OwnerLink(self.match_id, game)
            await relay().watch(self.match_id, self)  # before the snapshot: it says which frames follow
            if self.released:  # closed meanwhile (the server shutting down)
                await self.stop_watching()
                return
        await self.send_snapshot(latest)

    async def forget(self) -> None:
        # Whatever ``self.seat`` says: a failure half-way through taking a
        # seat must not leave the socket vouched for.
        if presence.forget(self.channel_name) or self.seat is not None:
            await on_database(presence.socket_closed)(self.channel_name)

    # --- from the client ---------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.handling_ref = None
        try:
            self.limits.check("socket_messages", "messages")
            message = parse_client_message(self.decode(text_data, bytes_data))
            self.handling_ref = message.ref
            self.count(message)
        except BadMessage as bad:
            await self.send_error(ErrorCode.BAD_MESSAGE, bad.message, bad.ref)
            return
        except quotas.RateLimited as limited:
            await self.send_refusal(limited, limited.ref)
            return
        await self.handlers[type(message)](self, message)

    def count(self, message: ClientMessage) -> None:
        """The per-kind limit of a parsed message (chat is limited per player, in its service)."""
        name = MESSAGE_LIMITS.get(type(message))
        if name is not None:
            try:
                self.limits.check(name, name.removeprefix("socket_"))
                if name == "socket_resyncs":  # what a resync costs falls on this process, whoever asks
                    quotas.check_local("address_resyncs", self.address, "resyncs from your address")
            except quotas.RateLimited as limited:
                limited.ref = message.ref
                raise

    async def on_move(self, message: MoveIn) -> None:
        if self.owner is not None and self.seat is not None:
            await self.send_error(ErrorCode.ILLEGAL_MOVE, "a real-time game takes inputs, not moves", message.ref)
            return
        await self.act(EventKind.MOVE, message.move, message.seq, message.ref)

    async def on_input(self, message: InputIn) -> None:
        """A real-time input: checked here as far as the socket can (the
        seat is the socket's own, the shape the game's ``Move``), then
        handed to the owner, which refuses what only it can judge (a seat
        out of play, too many inputs in one tick) through ``realtime_refused``."""
        refusal = self.input_refusal(message)
        if refusal is not None:
            await self.send_error(*refusal, message.ref)
            return
        assert self.owner is not None and self.seat is not None
        try:
            sent = await self.owner.send_input(self.seat, message.input, self.channel_name, message.ref, message.tick)
        except ChannelFull:
            await self.send_error(ErrorCode.RATE_LIMITED, "the match's owner is overloaded: input dropped", message.ref)
            return
        if not sent:
            await self.send_error(ErrorCode.MATCH_NOT_ACTIVE, "the match is not being played", message.ref)

    def input_refusal(self, message: InputIn) -> tuple[ErrorCode, str] | None:
        if self.seat is None:
            return ErrorCode.NOT_A_PLAYER, "only the match's players may do that"
        if self.owner is None:
            return ErrorCode.ILLEGAL_MOVE, 'this game takes moves: {"type": "move"}'
        if self.match_status != Status.ACTIVE:
            return ErrorCode.MATCH_NOT_ACTIVE, f"the match is {self.match_status}"
        try:
            self.owner.game.parse_move(message.input)
        except IllegalMove as illegal:
            return ErrorCode.ILLEGAL_MOVE, illegal.reason
        return None

    async def on_action(self, message: ActionIn) -> None:
        await self.act(EventKind(message.type), None, None, message.ref)

    async def on_resync(self, message: ResyncIn) -> None:
        if message.after is None:
            await self.send_snapshot(await on_database(services.load_match)(self.match_id))
            return
        await self.resync(message.after, force=True)

    async def on_chat(self, message: ChatIn) -> None:
        if self.player is None:
            await self.send_error(ErrorCode.NOT_AUTHENTICATED, "log in to chat", message.ref)
            return
        try:
            await on_database(services.post_chat)(self.match_id, self.player, message.text)
        except services.GameError as refusal:
            await self.send_refusal(refusal, message.ref)

    handlers: ClassVar[dict[type[ClientMessage], Callable[[MatchConsumer, Any], Awaitable[None]]]] = {
        MoveIn: on_move,
        InputIn: on_input,
        ActionIn: on_action,
        ResyncIn: on_resync,
        ChatIn: on_chat,
    }

    async def act(self, kind: EventKind, move: Any, seq: int | None, ref: Ref) -> None:
        if self.seat is None:  # a spectator: refused without touching the database
            await self.send_error(ErrorCode.NOT_A_PLAYER, "only the match's players may do that", ref)
            return
        received = time.perf_counter()
        try:
            outcome = await on_database(services.act)(self.match_id, self.player, kind, move, seq)
        except services.GameError as refusal:  # the match is gone
            await self.send_refusal(refusal, ref)
            return
        if outcome.settled is not None:
            await self.deliver(outcome.settled)
        if outcome.refusal is not None:
            await self.send_refusal(outcome.refusal, ref)
            return
        monitoring.MOVE_LATENCY.observe(time.perf_counter() - received)  # committed and broadcast by now
        assert outcome.step is not None
        # Deliver our own event now rather than wait for the layer (which may
        # drop it); the group copy that follows is then ignored as old.
        self.own_refs[outcome.step.event["seq"]] = ref
        await self.deliver(outcome.step)

    async def deliver(self, step: Step) -> None:
        """A step this process logged: sent like any event, in order."""
        arrival = self.sequence.classify(step.event["seq"])
        if arrival is Arrival.GAP:
            await self.resync(self.sequence.last, force=False)
        elif arrival is Arrival.NEXT and step.message is not None and step.event["kind"] != EventKind.JOIN:
            self.sequence.sent(step.event["seq"])  # the frame the broadcast carries, as serialised there
            self.match_status = step.match["status"]
            text = text_for(step.message, self.seat, self.protocol)
            await self.send(text_data=frames.with_ref(text, self.own_refs.pop(step.event["seq"], None)))
        elif arrival is Arrival.NEXT:
            await self.send_event(step.event, step.match, step.presence, step.before)

    # --- from the channel layer --------------------------------------------

    async def match_event(self, message: dict[str, Any]) -> None:
        arrival = self.sequence.classify(message["seq"])
        if arrival is Arrival.OLD:
            return
        if arrival is Arrival.GAP:
            await self.resync(self.sequence.last, force=False)
            return
        if "match" in message:  # a join: a watching player may have just taken a seat
            await self.send_event(message["event"], *layer_match(message))
            return
        self.sequence.sent(message["seq"])  # serialised once by the sender for every recipient like this one
        self.match_status = message.get("status", self.match_status)
        await self.send(text_data=text_for(message, self.seat, self.protocol))

    async def match_presence(self, message: dict[str, Any]) -> None:
        await self.catch_up_to(message["seq"])
        await self.send_frame(frame_of(message, frames.FrameType.PRESENCE))

    async def match_chat(self, message: dict[str, Any]) -> None:
        await self.catch_up_to(message["seq"])
        await self.send_frame(frame_of(message, frames.FrameType.CHAT))

    async def catch_up_to(self, seq: int) -> None:
        if self.sequence.behind(seq):
            await self.resync(self.sequence.last, force=False)

    async def match_tick(self, message: dict[str, Any]) -> None:
        """A real-time match's frame, forwarded as it is, in tick order. A
        frame of a new owner (a higher epoch) first gets the client a
        snapshot from it: the ticks it resumed from may differ from the
        last ones the former owner sent (inputs lost with it)."""
        epoch = message["epoch"]
        if self.owner is None or epoch < self.tick_epoch or Status(self.match_status).over:
            return
        self.owner.saw_epoch(epoch)
        if epoch > self.tick_epoch and self.tick_epoch:
            await self.send_snapshot(await on_database(services.load_match)(self.match_id))
            return
        self.tick_epoch = epoch
        if message["tick"] > self.ticks_sent:
            self.ticks_sent = message["tick"]
            await self.send(text_data=message["text"])

    async def relayed(self, message: dict[str, Any]) -> None:
        """A tick frame from this process's relay, handled in this socket's
        turn (after whatever it is doing, a snapshot say), as a message
        from the channel layer would be. Beyond ``FRAMES_WAITING`` frames
        waiting for a busy socket, the newest are dropped: the client sees
        the gap and resyncs."""
        if self.frames_waiting >= FRAMES_WAITING:
            return
        self.frames_waiting += 1
        try:
            async with self.turn:
                if not self.released:
                    await self.match_tick(message)
        except Exception:
            logger.warning(
                "socket %s: forwarding tick %s failed", self.scope.get("path"), message.get("tick"), exc_info=True
            )
        finally:
            self.frames_waiting -= 1

    async def release(self) -> None:
        was_released = self.released
        await super().release()
        if self.owner is not None and not was_released:
            await self.stop_watching()

    async def stop_watching(self) -> None:
        watching = relay()
        watching.unwatch(self.match_id, self)
        await self.quietly(watching.leave(self.match_id), "leaving the match's frames")

    async def realtime_refused(self, message: dict[str, Any]) -> None:
        """The owner refused this socket's input."""
        await self.send_error(message["code"], message["message"], message.get("ref"))

    async def realtime_elsewhere(self, message: dict[str, Any]) -> None:
        """The process this socket sent an input to does not run the match
        (any more): look the owner up again and send it there, once."""
        if self.owner is None or self.seat is None:
            return
        self.owner.forget()
        view = await self.owner.lease()
        if view is None:
            await self.send_error(ErrorCode.MATCH_NOT_ACTIVE, "the match is not being played", message.get("ref"))
        elif view.channel not in ("", message["channel"]) and not message.get("again"):
            with suppress(ChannelFull):  # dropped, as an input in flight to a dying owner is
                await self.owner.send_input(
                    self.seat, message["input"], self.channel_name, message.get("ref"), message.get("sent"), again=True
                )

    async def match_rematch(self, message: dict[str, Any]) -> None:
        data, seats_present = layer_match(message)
        viewer = seat_of(data, self.player.pk) if self.player else None
        await self.send_frame(frames.rematch(data, seats_present, viewer, timezone.now()))

    # --- to the client -----------------------------------------------------

    async def resync(self, after: int, force: bool) -> None:
        """Send the events after ``after`` (or a snapshot when cheaper).
        ``force`` resends events the client asked for even if this socket
        already sent them."""
        monitoring.RESYNCS.inc()
        latest, missed = await on_database(services.replay_since)(
            self.match_id, after, settings.GAMES_RESYNC_MAX_EVENTS
        )
        if missed is None:
            await self.send_snapshot(latest)
            return
        for event, data in missed:
            if force or event["seq"] > self.sequence.last:
                await self.send_event(event, data, latest.presence)

    async def send_snapshot(self, latest: Current) -> None:
        self.sequence.reset(latest.match["seq"])
        self.own_refs.clear()
        if self.seat is None and self.player is not None:
            await self.take_seat_if_joined(latest.match)
        data, realtime = latest.match, None
        if self.owner is not None:
            data, realtime = await self.owner.snapshot(data)
            self.ticks_sent, self.tick_epoch = realtime["tick"], realtime["epoch"]
        self.match_status = data["status"]
        frame = frames.snapshot(data, latest.presence, self.seat, timezone.now(), self.protocol, realtime)
        await self.send_frame(frame)

    async def send_event(
        self, event: Event, data: MatchData, presence: Presence, before: MatchData | None = None
    ) -> None:
        """An event frame: with protocol 2 and the match ``before`` the event,
        what changed; otherwise the whole match (resyncs, joins)."""
        self.sequence.sent(event["seq"])
        self.match_status = data["status"]
        seat = self.seat
        if event["kind"] == EventKind.JOIN and self.seat is None and self.player is not None:
            await self.take_seat_if_joined(data)
        ref = self.own_refs.pop(event["seq"], None)
        if self.protocol == 2 and before is not None and self.seat == seat:  # a new seat sees another match
            await self.send_frame(frames.event_patch(event, before, data, presence, self.seat, ref))
        else:
            await self.send_frame(frames.event(event, data, presence, self.seat, ref))

    async def take_seat_if_joined(self, data: MatchData) -> None:
        """A watching player who joins (say, over HTTP) becomes a seated
        socket: their own view from now on, and their presence counted."""
        if self.player is not None and seat_of(data, self.player.pk) is not None:
            _, self.seat = await on_database(presence.socket_opened)(self.match_id, self.player, self.channel_name)


MESSAGE_LIMITS: dict[type[ClientMessage], str] = {
    MoveIn: "socket_moves",
    InputIn: "socket_moves",
    ActionIn: "socket_moves",
    ResyncIn: "socket_resyncs",
}


class LobbyConsumer(ListeningSocket):
    """``/ws/lobby/``: the matches waiting for players, whenever that changes."""

    last_at = ""

    async def connect(self) -> None:
        if not await self.open():
            return
        await self.join_group(LOBBY_GROUP)
        await self.lobby_changed(await on_database(lobby_message)())

    async def lobby_changed(self, message: dict[str, Any]) -> None:
        if message["at"] < self.last_at:
            return  # an older list overtaken by a newer one
        self.last_at = message["at"]
        await self.send(text_data=message["text"])
