"""The tournament endpoints of the HTTP API, a django-ninja router mounted on
the project's one ``NinjaAPI`` (``gameproject/urls.py``), so they share its
authentication, error envelope and OpenAPI schema.

The operation ids are spelled out: django-ninja derives them from the
module, and these endpoints were documented under ``games.api``'s ids
before they moved here.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from games.api import AS_PLAYER, WITH_BODY, answers
from games.api_auth import PLAYER_AUTH, optional_player
from games.engine.errors import GameError
from games.models import Player
from tournaments import services
from tournaments.models import Tournament
from tournaments.schemas import (
    CreateTournamentIn,
    EntryCreatedOut,
    TournamentForCallerOut,
    TournamentOut,
    TournamentsOut,
)

router = Router()
LISTED = 100  # GET /api/tournaments: the newest this many


def _require_staff(player: Player) -> None:
    if not player.user.is_staff:
        raise GameError("forbidden", "only staff may do this (see manage.py apitoken)")


@router.post(
    "/tournaments",
    response=answers({201: TournamentOut}, *WITH_BODY, *AS_PLAYER),
    auth=PLAYER_AUTH,
    operation_id="games_api_create_tournament",
)
def create_tournament(request: HttpRequest, body: CreateTournamentIn) -> Status:
    _require_staff(request.auth)
    tournament = services.create_tournament(
        body.name, body.game, body.options, body.entry_fee, body.currency, body.capacity, body.starts_at
    )
    return Status(201, services.tournament_view(tournament))


@router.get(
    "/tournaments",
    response=answers({200: TournamentsOut}),
    auth=None,
    operation_id="games_api_list_tournaments",
)
def list_tournaments(request: HttpRequest) -> dict:
    recent = Tournament.objects.select_related("winner")[:LISTED]
    return {"tournaments": [services.tournament_view(t) for t in recent]}


@router.get(
    "/tournaments/{tournament_id}",
    response=answers({200: TournamentForCallerOut}, 400, 404),
    auth=None,
    operation_id="games_api_get_tournament",
)
def get_tournament(request: HttpRequest, tournament_id: int) -> dict:
    """The tournament, and the caller's own entry with its payment instructions."""
    tournament = services.get_tournament(tournament_id)
    return {
        **services.tournament_view(tournament),
        "my_entry": services.entry_of(tournament, optional_player(request)),
    }


@router.post(
    "/tournaments/{tournament_id}/entries",
    response=answers({201: EntryCreatedOut}, *AS_PLAYER, 404, 409),
    auth=PLAYER_AUTH,
    operation_id="games_api_enter_tournament",
)
def enter_tournament(request: HttpRequest, tournament_id: int) -> Status:
    entry = services.enter(tournament_id, request.auth)
    payment = services.payment_instructions(entry, entry.tournament)
    return Status(201, {"entry": {"id": entry.pk, "status": entry.status}, "payment": payment})


@router.post(
    "/tournaments/{tournament_id}/start",
    response=answers({200: TournamentOut}, *AS_PLAYER, 404, 409),
    auth=PLAYER_AUTH,
    operation_id="games_api_start_tournament",
)
def start_tournament(request: HttpRequest, tournament_id: int) -> dict:
    _require_staff(request.auth)
    return services.tournament_view(services.start(tournament_id))
