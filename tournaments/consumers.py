"""``/ws/tournaments/<id>/``: the tournament socket."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from games import frames
from games.broadcast import layer_match
from games.consumers import CLOSE_UNKNOWN_MATCH, ListeningSocket
from games.database_threads import on_database
from games.engine.errors import GameError
from tournaments.services import player_group, tournament_group, tournament_snapshot


class TournamentConsumer(ListeningSocket):
    """The whole tournament view whenever it changes (newest ``seq`` wins:
    each message is complete, so a lost one is repaired by the next), and,
    for an entrant, ``match_ready`` when a bracket match of theirs starts."""

    last_seq: int = -1

    async def connect(self) -> None:
        self.tournament_id = int(self.scope["url_route"]["kwargs"]["tournament_id"])
        if not await self.open():
            return
        await self.join_group(tournament_group(self.tournament_id))
        if self.player is not None:
            await self.join_group(player_group(self.player.pk))
        try:
            view = await on_database(tournament_snapshot)(self.tournament_id)
        except GameError:
            await self.close(code=CLOSE_UNKNOWN_MATCH)
            return
        await self.tournament_changed({"tournament": view})

    async def tournament_changed(self, message: dict[str, Any]) -> None:
        view = message["tournament"]
        if view["seq"] <= self.last_seq:
            return
        self.last_seq = view["seq"]
        await self.send_frame(frames.tournament(view))

    async def tournament_match(self, message: dict[str, Any]) -> None:
        data, seats_present = layer_match(message)
        ready = frames.match_ready(message["tournament"], data, seats_present, message["seat"], timezone.now())
        await self.send_frame(ready)
