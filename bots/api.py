"""The bots' endpoints, a router mounted on the one API (``BotsConfig.ready``):
``GET /api/bots`` lists the levels, ``POST /api/bots/matches`` starts a match
against one."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from bots import services
from bots.levels import LEVELS
from bots.schemas import BotMatchIn, BotsOut
from games.api import AS_PLAYER, WITH_BODY, answers, limit_address
from games.api_auth import PLAYER_AUTH
from games.engine.match import seat_of
from games.match_views import match_view
from games.models import Player
from games.schemas import MatchOut

router = Router(tags=["bots"])


@router.get("/bots", response=answers({200: BotsOut}), auth=None)
def list_bots(request: HttpRequest) -> dict:
    """Every level of the computer, with the player that plays it."""
    levels = []
    for number, level in sorted(LEVELS.items()):
        player = services.bot_player(number)
        levels.append({
            "level": number, "name": level.name, "description": level.description,
            "strategy": level.strategy.value, "seconds_per_move": level.budget,
            "player": {"id": player.pk, "name": player.name},
        })  # fmt: skip
    return {"levels": levels}


@router.post("/bots/matches", response=answers({201: MatchOut}, *WITH_BODY, *AS_PLAYER, 429), auth=PLAYER_AUTH)
def create_bot_match(request: HttpRequest, body: BotMatchIn) -> Status:
    """A match against the computer at ``level``, active at once."""
    limit_address(request, "address_match_creation", "matches created from your address")
    player: Player = request.auth  # type: ignore[attr-defined]  # set by PLAYER_AUTH
    started = services.start_bot_match(player, body.game, body.options, body.level, seat=body.seat)
    viewer = seat_of(started.match, player.pk)
    return Status(201, match_view(started.match, started.presence, viewer, timezone.now()))
