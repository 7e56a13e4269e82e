"""The queue endpoints of the HTTP API (quick play for clients without a
socket, such as bots), a router mounted on the one API in ``apps.py``."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from games.api import AS_PLAYER, WITH_BODY, answers, limit_player
from games.api_auth import PLAYER_AUTH
from games.models import Player
from matchmaking import services
from matchmaking.schemas import SeekIn, SeekOut
from matchmaking.services import SeekView

router = Router(tags=["quick play"])


def caller(request: HttpRequest) -> Player:
    """The authenticated player (``PLAYER_AUTH`` puts it on ``request.auth``)."""
    player = request.auth  # type: ignore[attr-defined]
    assert isinstance(player, Player)
    return player


def _with_waiting(seek: SeekView) -> dict:
    return {**seek, "waiting": services.waiting_in(seek["pool"])}


@router.post("/queue", response=answers({200: SeekOut, 201: SeekOut}, *WITH_BODY, *AS_PLAYER, 429), auth=PLAYER_AUTH)
def create_seek(request: HttpRequest, body: SeekIn) -> Status:
    """Seek a match: 201 with the new seek (already paired if someone
    acceptable waited), or 200 with the player's waiting seek of that pool.
    Poll ``GET /api/queue/<id>`` to hold it."""
    player = caller(request)
    limit_player(player)
    seek, created = services.seek(player, body.game, body.options, body.bot_after)
    return Status(201 if created else 200, _with_waiting(seek))


@router.get("/queue/{seek_id}", response=answers({200: SeekOut}, *AS_PLAYER, 404, 429), auth=PLAYER_AUTH)
def get_seek(request: HttpRequest, seek_id: int) -> dict:
    """The caller's seek (its match once paired); holds a waiting one for another ``MATCHMAKING_HOLD_SECONDS``."""
    player = caller(request)
    limit_player(player)
    return _with_waiting(services.poll(player, seek_id))


@router.delete("/queue/{seek_id}", response=answers({200: SeekOut}, *AS_PLAYER, 404, 429), auth=PLAYER_AUTH)
def delete_seek(request: HttpRequest, seek_id: int) -> dict:
    """Withdraw the caller's seek; if it was paired already, the answer shows the match."""
    player = caller(request)
    limit_player(player)
    return _with_waiting(services.cancel(player, seek_id))
