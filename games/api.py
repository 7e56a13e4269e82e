"""The HTTP API (django-ninja). Thin: parse, authenticate, call the service.

Errors are always ``{"error": {"code", "message"}}`` with a fitting status,
documented in the OpenAPI schema (see :func:`answers`); what Django itself
would answer as HTML (unknown URLs, wrong methods, bodies too large,
unexpected exceptions) is enveloped too (``games.http_errors``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils import timezone
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from games import http_errors, lobby, quotas, services
from games.accounts import create_guest, issue_ticket
from games.api_auth import PLAYER_AUTH, optional_player
from games.engine import Game, all_games
from games.engine.errors import ErrorCode
from games.engine.match import Status as MatchStatus
from games.engine.match import seat_of
from games.match_views import event_view, match_view
from games.models import Player
from games.outcomes import Current
from games.replays import replay_json
from games.schemas import (
    CreateMatchIn,
    CreatePlayerIn,
    ErrorOut,
    EventsAfterIn,
    EventsOut,
    GamesOut,
    MatchesOut,
    MatchListIn,
    MatchOut,
    MoveIn,
    PlayerOut,
    ReplayOut,
    TicketOut,
)

api = NinjaAPI(title="Game backend", version="1", urls_namespace="api")


def mount(router: Router) -> None:
    """Add another app's endpoints to the one API (from its ``ready()``), so
    they share its authentication, error envelope and OpenAPI schema. Once:
    ``ready()`` runs again whenever the installed apps change (tests'
    ``override_settings(INSTALLED_APPS=...)``)."""
    if all(mounted is not router for _, mounted in api._routers):
        api.add_router("", router)


def answers(ok: dict[int, Any], *errors: int) -> dict[Any, Any]:
    """An endpoint's responses for the OpenAPI schema: ``ok``, and the error
    envelope for the statuses in ``errors`` and 500, which any call may get."""
    return {**ok, frozenset({*errors, 500}): ErrorOut}


# Statuses that come with a JSON body (bad_request, request_too_large) and
# with authentication (not_authenticated; csrf_failed or forbidden).
WITH_BODY = (400, 413)
AS_PLAYER = (401, 403)


def error_response(request: HttpRequest, code: str, message: str, status: int | None = None) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message}}, status=status or ErrorCode(code).http_status
    )


@api.exception_handler(services.GameError)
def on_game_error(request: HttpRequest, exc: services.GameError) -> HttpResponse:
    response = error_response(request, exc.code, exc.message)
    if isinstance(exc, quotas.RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def limit_address(request: HttpRequest, name: str, what: str) -> None:
    """Count one ``name`` for the client's address (see ``quotas.client_address``)."""
    address = quotas.client_address(request.headers.get("X-Forwarded-For"), request.META.get("REMOTE_ADDR"))
    quotas.check_shared(name, address, what)


def limit_player(player: Player) -> None:
    """Count one action of ``player`` over HTTP (moves, joins, tickets): the
    socket's per-message limits do not see these."""
    quotas.check_shared("player_http_actions", player.pk, "requests")


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:]) or 'body'}: {error['msg']}" for error in exc.errors
    )
    return error_response(request, "bad_request", problems or "invalid request", 400)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, "not_authenticated", "send 'Authorization: Bearer <token>' or log in with POST /api/players"
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, "not_found", str(exc) or "not found")


@api.exception_handler(Exception)
def on_other_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A body too large (413), any other exception Django knows (400, 403),
    or an unexpected one: 500, the traceback logged, never sent."""
    return http_errors.exception_response(request, exc)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403 and "CSRF" in str(exc):
        return error_response(request, "csrf_failed", "send the csrftoken cookie's value as X-CSRFToken", 403)
    return error_response(request, "bad_request", str(exc), exc.status_code)


def _match_for(current: Current, player: Player | None) -> dict[str, Any]:
    """The match as ``player`` (or a spectator) may see it, clocks as of now."""
    viewer = seat_of(current.match, player.pk if player else None)
    return match_view(current.match, current.presence, viewer, timezone.now())


@api.post("/players", response=answers({201: PlayerOut}, *WITH_BODY, 429), auth=None)
def create_player(request: HttpRequest, body: CreatePlayerIn) -> Status:
    limit_address(request, "address_player_creation", "players created from your address")
    player, token = create_guest(body.name, is_bot=body.is_bot)
    login(request, player.user, backend="django.contrib.auth.backends.ModelBackend")
    return Status(201, {"id": player.pk, "name": player.name, "token": token})


@api.get("/games", response=answers({200: GamesOut}), auth=None)
def list_games(request: HttpRequest) -> dict:
    return {"games": [{**game.describe(), "board_url": board_url(game)} for game in all_games()]}


def board_url(game: Game) -> str | None:
    """Where a browser loads the game's board script: its static URL (hashed
    names included, once collected), or None for the generic board."""
    return static(game.board_script) if game.board_script else None


@api.post("/matches", response=answers({201: MatchOut}, *WITH_BODY, *AS_PLAYER, 429), auth=PLAYER_AUTH)
def create_match(request: HttpRequest, body: CreateMatchIn) -> Status:
    limit_address(request, "address_match_creation", "matches created from your address")
    created = services.create_match(request.auth, body.game, body.options, body.seats)
    return Status(201, _match_for(created, request.auth))


@api.get("/matches", response=answers({200: MatchesOut}, 400), auth=None)
def list_matches(request: HttpRequest, query: Query[MatchListIn]) -> dict:
    """Matches in one status (waiting ones: the lobby), newest first."""
    return {"matches": lobby.list_matches(query.game, query.status)}


@api.post("/matches/{match_id}/join", response=answers({200: MatchOut}, *AS_PLAYER, 404, 409, 429), auth=PLAYER_AUTH)
def join_match(request: HttpRequest, match_id: int) -> dict:
    limit_player(request.auth)
    return _match_for(services.join_match(match_id, request.auth), request.auth)


@api.get("/matches/{match_id}", response=answers({200: MatchOut}, 400, 404), auth=None)
def get_match(request: HttpRequest, match_id: int) -> dict:
    return _match_for(services.load_match(match_id), optional_player(request))


@api.get("/matches/{match_id}/events", response=answers({200: EventsOut}, 400, 404), auth=None)
def list_events(request: HttpRequest, match_id: int, query: Query[EventsAfterIn]) -> dict:
    latest, events = services.events_after(match_id, query.after)
    player = optional_player(request)
    viewer = seat_of(latest.match, player.pk if player else None)
    return {"seq": latest.match["seq"], "events": [event_view(latest.match, event, viewer) for event in events]}


@api.get("/matches/{match_id}/replay", response=answers({200: ReplayOut}, 400, 404, 409, 429), auth=None)
def replay_match(request: HttpRequest, match_id: int) -> HttpResponse:
    """Every logged event of a finished match with the match as it stood
    right after it, rebuilt from the log: for stepping through a game."""
    limit_address(request, "address_replays", "replays requested from your address")
    match = services.get_match(match_id)
    if not MatchStatus(match.status).over:
        raise services.GameError(ErrorCode.MATCH_NOT_ACTIVE, "a replay is available once the match is over")
    return HttpResponse(replay_json(match, optional_player(request)), content_type="application/json")


@api.post(
    "/matches/{match_id}/moves",
    response=answers({200: MatchOut}, *WITH_BODY, *AS_PLAYER, 404, 409, 422, 429),
    auth=PLAYER_AUTH,
)
def make_move(request: HttpRequest, match_id: int, body: MoveIn) -> dict:
    limit_player(request.auth)
    step = services.play_move(match_id, request.auth, body.move, body.seq)
    return _match_for(Current(step.match, step.presence), request.auth)


@api.post("/tickets", response=answers({200: TicketOut}, *AS_PLAYER, 429), auth=PLAYER_AUTH)
def create_ticket(request: HttpRequest) -> dict:
    limit_player(request.auth)
    ticket, expires_in = issue_ticket(request.auth)
    return {"ticket": ticket, "expires_in": expires_in}
