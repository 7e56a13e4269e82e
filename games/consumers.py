"""The match WebSocket: parse, authenticate, call the service, send.

Ordering is kept here rather than trusted to the channel layer (which promises
neither delivery nor order): the consumer remembers the last ``seq`` it sent
its client, drops anything older, and fills any gap from the database before
sending a newer event. A client therefore sees events in seq order without
gaps for as long as its socket lives.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from games import presence, services
from games.accounts import player_for_user
from games.broadcast import match_group, text_for
from games.lobby import LOBBY_GROUP, lobby_message
from games.messages import ActionMessage, BadMessage, ChatMessage, MoveMessage, ResyncMessage, parse_client_message
from games.models import Player
from games.payloads import event_message, match_view, snapshot_message
from games.timeline import MatchData, seat_of
from games.tournaments import get_tournament, player_group, tournament_group, tournament_view

CLOSE_UNKNOWN_MATCH = 4404
CLOSE_BAD_TICKET = 4401


class PlayerSocket(AsyncWebsocketConsumer):
    """What every socket does first: accept (a close code needs an accepted
    socket), refuse a bad ticket with 4401, and find the player, if any."""

    player: Player | None = None

    async def open(self) -> bool:
        await self.accept()
        if self.scope.get("ticket_rejected"):
            await self.close(code=CLOSE_BAD_TICKET)
            return False
        self.player = self.scope.get("player") or await database_sync_to_async(player_for_user)(self.scope.get("user"))
        return True

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))


class ListeningSocket(PlayerSocket):
    """A socket the server only pushes to."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send_json(
            {"type": "error", "code": "bad_message", "message": "this socket only listens", "ref": None}
        )


class MatchConsumer(PlayerSocket):
    seat: int | None = None
    last_seq: int = -1
    joined_group: bool = False

    async def connect(self) -> None:
        self.match_id = int(self.scope["url_route"]["kwargs"]["match_id"])
        self.group = match_group(self.match_id)
        self.own_refs: dict[int, Any] = {}
        if not await self.open():
            return
        # Join the group before reading the snapshot: an event committed in
        # between arrives later with seq <= the snapshot's and is dropped.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined_group = True
        try:
            data, self.seat = await database_sync_to_async(presence.socket_opened)(
                self.match_id, self.player, self.channel_name
            )
        except services.GameError:
            await self.close(code=CLOSE_UNKNOWN_MATCH)
            return
        await self.send_snapshot(data)

    async def disconnect(self, code: int) -> None:
        if self.joined_group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.seat is not None:
            await database_sync_to_async(presence.socket_closed)(self.channel_name)

    # --- from the client ---------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = parse_client_message(self.decode(text_data, bytes_data))
        except BadMessage as bad:
            await self.send_error("bad_message", bad.message, bad.ref)
            return
        if isinstance(message, MoveMessage):
            await self.on_action("move", message.move, message.seq, message.ref)
        elif isinstance(message, ActionMessage):
            await self.on_action(message.type, None, None, message.ref)
        elif isinstance(message, ChatMessage):
            await self.on_chat(message)
        elif isinstance(message, ResyncMessage):
            await self.resync(message.after, force=True)

    def decode(self, text_data: str | None, bytes_data: bytes | None) -> Any:
        if text_data is None:
            raise BadMessage("binary frames are not supported; send JSON text")
        limit = settings.GAMES_WS_MAX_MESSAGE_BYTES
        if len(text_data) > limit or len(text_data.encode()) > limit:
            raise BadMessage(f"message larger than {limit} bytes")
        try:
            return json.loads(text_data)
        except ValueError:
            raise BadMessage("message is not valid JSON") from None

    async def on_action(self, kind: str, move: Any, seq: int | None, ref: Any) -> None:
        try:
            broadcast = await database_sync_to_async(services.act)(self.match_id, self.player, kind, move, seq)
        except services.GameError as refusal:
            if refusal.settled is not None:
                await self.match_event(refusal.settled)
            await self.send_error(refusal.code, refusal.message, ref)
            return
        # Deliver our own event now rather than wait for the layer (which may
        # drop it); the group copy that follows is then ignored as old.
        self.own_refs[broadcast["seq"]] = ref
        await self.match_event(broadcast)

    async def on_chat(self, message: ChatMessage) -> None:
        try:
            await database_sync_to_async(services.post_chat)(self.match_id, self.player, message.text)
        except services.GameError as refusal:
            await self.send_error(refusal.code, refusal.message, message.ref)

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

    async def send_error(self, code: str, message: str, ref: Any = None) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "ref": ref})


class TournamentConsumer(ListeningSocket):
    """``/ws/tournaments/<id>/``: the whole tournament view whenever it
    changes (newest ``seq`` wins: each message is complete, so a lost one is
    repaired by the next), and, for an entrant, ``match_ready`` when a
    bracket match of theirs starts."""

    last_seq: int = -1
    groups_joined: tuple[str, ...] = ()

    async def connect(self) -> None:
        self.tournament_id = int(self.scope["url_route"]["kwargs"]["tournament_id"])
        if not await self.open():
            return
        groups = [tournament_group(self.tournament_id)]
        if self.player is not None:
            groups.append(player_group(self.player.pk))
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = tuple(groups)
        try:
            view = await database_sync_to_async(tournament_snapshot)(self.tournament_id)
        except services.GameError:
            await self.close(code=CLOSE_UNKNOWN_MATCH)
            return
        await self.tournament_changed({"tournament": view})

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

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
        await self.channel_layer.group_add(LOBBY_GROUP, self.channel_name)
        await self.lobby_changed(await database_sync_to_async(lobby_message)())

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(LOBBY_GROUP, self.channel_name)

    async def lobby_changed(self, message: dict[str, Any]) -> None:
        if message["at"] < self.last_at:
            return  # an older list overtaken by a newer one
        self.last_at = message["at"]
        await self.send_json({"type": "lobby", "matches": message["matches"], "at": message["at"]})


def tournament_snapshot(tournament_id: int) -> dict[str, Any]:
    return tournament_view(get_tournament(tournament_id))
