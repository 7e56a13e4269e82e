"""The match WebSocket: parse, authenticate, call the service, send.

Ordering is kept here rather than trusted to the channel layer (which promises
neither delivery nor order): the consumer remembers the last ``seq`` it sent
its client, drops anything older, and fills any gap from the database before
sending a newer event. A client therefore sees events in seq order without
gaps for as long as its socket lives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable
from functools import cached_property
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from games import inputs, lifecycle, monitoring, presence, quotas, services
from games.accounts import player_for_user
from games.broadcast import match_group, text_for
from games.lobby import LOBBY_GROUP, lobby_message
from games.messages import (
    ActionMessage,
    AnyMessage,
    BadMessage,
    ChatMessage,
    MoveMessage,
    ResyncMessage,
    parse_client_message,
)
from games.models import Player
from games.payloads import event_message, match_view, snapshot_message
from games.timeline import MatchData, seat_of
from games.tournaments import get_tournament, player_group, tournament_group, tournament_view

logger = logging.getLogger(__name__)

CLOSE_UNKNOWN_MATCH = 4404
CLOSE_BAD_TICKET = 4401
CLOSE_TOO_MANY = 4429
CLOSE_SERVICE_RESTART = lifecycle.CLOSE_SERVICE_RESTART
LAYER_TIMEOUT = 2.0  # seconds a group_discard may take when a socket ends


class PlayerSocket(AsyncWebsocketConsumer):
    """What every socket does first: accept (a close code needs an accepted
    socket), refuse a bad ticket with 4401, and find the player, if any.

    And what every socket does last, whatever ends it (a close, an exception
    in any handler, a channel-layer or database outage, the server shutting
    down): :meth:`release`, once, in an order where nothing that can fail
    comes before forgetting the socket (see ``games.presence.forget``).
    """

    player: Player | None = None
    groups_joined: tuple[str, ...] = ()
    quotas_held: tuple[tuple[quotas.SocketQuota, str | int], ...] = ()
    released: bool = False
    handling_ref: str | int | None = None  # the ref of the client message being handled

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
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
            # old connections before every message, which database_sync_to_async
            # already does around each database call.
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            if message["type"] == "websocket.connect":
                raise
            logger.exception("socket %s: handling %s failed", self.scope.get("path"), message["type"])
            if message["type"] == "websocket.receive":
                failed = self.send_error("server_error", "the server failed to handle that message", self.handling_ref)
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
        self.player = self.scope.get("player") or await database_sync_to_async(player_for_user)(self.scope.get("user"))
        try:
            await database_sync_to_async(self.count_open)()
            self.hold(quotas.sockets_per_address, self.address, settings.GAMES_MAX_SOCKETS_PER_ADDRESS)
            if self.player is not None:
                self.hold(quotas.sockets_per_player, self.player.pk, settings.GAMES_MAX_SOCKETS_PER_PLAYER)
        except quotas.RateLimited as limited:
            await self.send_error(limited.code, limited.message, None, limited.retry_after)
            await self.close(code=CLOSE_TOO_MANY)
            return False
        return True

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

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def send_error(self, code: str, message: str, ref: Any = None, retry_after: int | None = None) -> None:
        payload = {"type": "error", "code": code, "message": message, "ref": ref}
        if retry_after is not None:
            payload["retry_after"] = retry_after
        await self.send_json(payload)

    async def send_refusal(self, refusal: services.GameError, ref: Any) -> None:
        await self.send_error(refusal.code, refusal.message, ref, getattr(refusal, "retry_after", None))


class ListeningSocket(PlayerSocket):
    """A socket the server only pushes to."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            quotas.check_local("socket_messages", self.channel_name, "messages")
        except quotas.RateLimited as limited:
            await self.send_error(limited.code, limited.message, None, limited.retry_after)
            return
        await self.send_error("bad_message", "this socket only listens")


class MatchConsumer(PlayerSocket):
    seat: int | None = None
    last_seq: int = -1

    async def connect(self) -> None:
        self.match_id = int(self.scope["url_route"]["kwargs"]["match_id"])
        self.own_refs: dict[int, Any] = {}
        if not await self.open():
            return
        # Join the group before reading the snapshot: an event committed in
        # between arrives later with seq <= the snapshot's and is dropped.
        await self.join_group(match_group(self.match_id))
        try:
            data, self.seat = await database_sync_to_async(presence.socket_opened)(
                self.match_id, self.player, self.channel_name
            )
        except services.GameError:
            await self.close(code=CLOSE_UNKNOWN_MATCH)
            return
        await self.send_snapshot(data)

    async def forget(self) -> None:
        # Whatever ``self.seat`` says: a failure half-way through taking a
        # seat must not leave the socket vouched for.
        if presence.forget(self.channel_name) or self.seat is not None:
            await database_sync_to_async(presence.socket_closed)(self.channel_name)

    # --- from the client ---------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.handling_ref = None
        try:
            quotas.check_local("socket_messages", self.channel_name, "messages")
            message = parse_client_message(self.decode(text_data, bytes_data))
            self.handling_ref = message.ref
            self.count(message)
        except BadMessage as bad:
            await self.send_error("bad_message", bad.message, bad.ref)
            return
        except quotas.RateLimited as limited:
            await self.send_refusal(limited, limited.ref)
            return
        if isinstance(message, MoveMessage):
            await self.on_action("move", message.move, message.seq, message.ref)
        elif isinstance(message, ActionMessage):
            await self.on_action(message.type, None, None, message.ref)
        elif isinstance(message, ChatMessage):
            await self.on_chat(message)
        elif isinstance(message, ResyncMessage):
            await self.resync(message.after, force=True)

    def count(self, message: AnyMessage) -> None:
        """The per-kind limit of a parsed message (chat is limited per player, in its service)."""
        kind = {MoveMessage: "socket_moves", ActionMessage: "socket_moves", ResyncMessage: "socket_resyncs"}
        name = kind.get(type(message))
        if name is not None:
            try:
                quotas.check_local(name, self.channel_name, name.removeprefix("socket_"))
                if name == "socket_resyncs":  # what a resync costs falls on this process, whoever asks
                    quotas.check_local("address_resyncs", self.address, "resyncs from your address")
            except quotas.RateLimited as limited:
                limited.ref = message.ref
                raise

    def decode(self, text_data: str | None, bytes_data: bytes | None) -> Any:
        if text_data is None:
            raise BadMessage("binary frames are not supported; send JSON text")
        limit = settings.GAMES_WS_MAX_MESSAGE_BYTES
        if len(text_data) > limit or len(text_data.encode()) > limit:
            raise BadMessage(f"message larger than {limit} bytes")
        try:
            return inputs.loads(text_data)
        except inputs.UnsafeInput as unsafe:
            raise BadMessage(str(unsafe)) from None

    async def on_action(self, kind: str, move: Any, seq: int | None, ref: Any) -> None:
        if self.seat is None:  # a spectator: refused without touching the database
            await self.send_error("not_a_player", "only the match's players may do that", ref)
            return
        received = time.perf_counter()
        try:
            broadcast = await database_sync_to_async(services.act)(self.match_id, self.player, kind, move, seq)
            monitoring.MOVE_LATENCY.observe(time.perf_counter() - received)  # committed and broadcast by now
        except services.GameError as refusal:
            if refusal.settled is not None:
                await self.match_event(refusal.settled)
            await self.send_refusal(refusal, ref)
            return
        # Deliver our own event now rather than wait for the layer (which may
        # drop it); the group copy that follows is then ignored as old.
        self.own_refs[broadcast["seq"]] = ref
        await self.match_event(broadcast)

    async def on_chat(self, message: ChatMessage) -> None:
        if self.player is None:
            await self.send_error("not_authenticated", "log in to chat", message.ref)
            return
        try:
            await database_sync_to_async(services.post_chat)(self.match_id, self.player, message.text)
        except services.GameError as refusal:
            await self.send_refusal(refusal, message.ref)

    # --- from the channel layer --------------------------------------------

    async def match_event(self, message: dict[str, Any]) -> None:
        seq = message["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self.resync(self.last_seq, force=False)
            return
        if "texts" in message and "match" not in message:
            self.last_seq = seq  # serialised once by the sender for every recipient like this one
            await self.send(text_data=text_for(message, self.seat))
            return
        await self.send_event(message["event"], message["match"])

    async def match_presence(self, message: dict[str, Any]) -> None:
        await self.catch_up_to(message["seq"])
        await self.send_json(
            {"type": "presence", "seat": message["seat"], "connected": message["connected"], "seq": message["seq"]}
        )

    async def match_chat(self, message: dict[str, Any]) -> None:
        await self.catch_up_to(message["seq"])
        await self.send_json({**message, "type": "chat"})

    async def catch_up_to(self, seq: int) -> None:
        """Presence and chat carry the match's seq: if it is ahead of what this
        socket sent, an event was lost on the way, so fetch it now rather than
        wait for a next event that may never come."""
        if seq > self.last_seq:
            await self.resync(self.last_seq, force=False)

    async def match_rematch(self, message: dict[str, Any]) -> None:
        data = message["match"]
        viewer = seat_of(data, self.player.pk) if self.player else None
        await self.send_json({"type": "rematch", "match": match_view(data, viewer, timezone.now())})

    # --- to the client -----------------------------------------------------

    async def resync(self, after: int, force: bool) -> None:
        """Send the events after ``after`` (or a snapshot when cheaper).
        ``force`` resends events the client asked for even if this socket
        already sent them."""
        monitoring.RESYNCS.inc()
        current, missed = await database_sync_to_async(services.replay_since)(
            self.match_id, after, settings.GAMES_RESYNC_MAX_EVENTS
        )
        if missed is None:
            await self.send_snapshot(current)
            return
        for event, data in missed:
            if force or event["seq"] > self.last_seq:
                await self.send_event(event, data)

    async def send_snapshot(self, data: MatchData) -> None:
        self.last_seq = data["seq"]
        self.own_refs.clear()
        if self.seat is None and self.player is not None:
            await self.take_seat_if_joined(data)
        await self.send_json(snapshot_message(data, self.seat, timezone.now()))

    async def send_event(self, event: dict[str, Any], data: MatchData) -> None:
        self.last_seq = max(self.last_seq, event["seq"])
        if event["kind"] == "join" and self.seat is None and self.player is not None:
            await self.take_seat_if_joined(data)
        payload = event_message(event, data, self.seat)
        ref = self.own_refs.pop(event["seq"], None)
        if ref is not None:
            payload["ref"] = ref
        await self.send_json(payload)

    async def take_seat_if_joined(self, data: MatchData) -> None:
        """A watching player who joins (say, over HTTP) becomes a seated
        socket: their own view from now on, and their presence counted."""
        if seat_of(data, self.player.pk) is not None:
            _, self.seat = await database_sync_to_async(presence.socket_opened)(
                self.match_id, self.player, self.channel_name
            )


class TournamentConsumer(ListeningSocket):
    """``/ws/tournaments/<id>/``: the whole tournament view whenever it
    changes (newest ``seq`` wins: each message is complete, so a lost one is
    repaired by the next), and, for an entrant, ``match_ready`` when a
    bracket match of theirs starts."""

    last_seq: int = -1

    async def connect(self) -> None:
        self.tournament_id = int(self.scope["url_route"]["kwargs"]["tournament_id"])
        if not await self.open():
            return
        await self.join_group(tournament_group(self.tournament_id))
        if self.player is not None:
            await self.join_group(player_group(self.player.pk))
        try:
            view = await database_sync_to_async(tournament_snapshot)(self.tournament_id)
        except services.GameError:
            await self.close(code=CLOSE_UNKNOWN_MATCH)
            return
        await self.tournament_changed({"tournament": view})

    async def tournament_changed(self, message: dict[str, Any]) -> None:
        view = message["tournament"]
        if view["seq"] <= self.last_seq:
            return
        self.last_seq = view["seq"]
        await self.send_json({"type": "tournament", "tournament": view})

    async def tournament_match(self, message: dict[str, Any]) -> None:
        data = message["match"]
        view = match_view(data, message["seat"], timezone.now())
        await self.send_json({"type": "match_ready", "tournament": message["tournament"], "match": view})


class LobbyConsumer(ListeningSocket):
    """``/ws/lobby/``: the matches waiting for players, whenever that changes."""

    last_at = ""

    async def connect(self) -> None:
        if not await self.open():
            return
        await self.join_group(LOBBY_GROUP)
        await self.lobby_changed(await database_sync_to_async(lobby_message)())

    async def lobby_changed(self, message: dict[str, Any]) -> None:
        if message["at"] < self.last_at:
            return  # an older list overtaken by a newer one
        self.last_at = message["at"]
        await self.send(text_data=message["text"])


def tournament_snapshot(tournament_id: int) -> dict[str, Any]:
    return tournament_view(get_tournament(tournament_id))
