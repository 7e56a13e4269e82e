"""The ratings endpoints of the HTTP API: leaderboards, player profiles and a
batch read of ratings, a django-ninja router mounted on the project's one
API (``RatingsConfig.ready``), so they share its authentication, error
envelope and OpenAPI schema. Anyone may read them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from games.api import answers
from games.api_auth import optional_player
from games.engine.errors import ErrorCode, GameError
from games.engine.options import is_rated
from games.models import Match, Player
from ratings import leaderboards
from ratings.pools import game_of, pool_for
from ratings.schemas import MAX_PLAYERS, BoardsOut, LeaderboardIn, LeaderboardOut, ProfileOut, RatingsIn, RatingsOut
from ratings.services import provisional_threshold, shown, standings_of
from ratings.skill import INITIAL_DEVIATION, INITIAL_RATING, is_provisional

router = Router(tags=["ratings"])


def _known_pool(pool: str) -> str:
    try:
        leaderboards.check_pool(pool)
    except leaderboards.UnknownPool:
        raise GameError(ErrorCode.NOT_FOUND, f"no rating pool {pool[:64]!r}") from None
    return pool


@router.get("/leaderboards", response=answers({200: BoardsOut}))
def list_leaderboards(request: HttpRequest) -> dict:
    """The pools where someone has a rating."""
    return {"leaderboards": leaderboards.boards()}


@router.get("/leaderboards/{pool}", response=answers({200: LeaderboardOut}, 400, 404))
def get_leaderboard(request: HttpRequest, pool: str, query: Query[LeaderboardIn]) -> dict:
    """The pool's top ``limit`` players (provisional ones left out) and, for
    a caller with credentials, their own rank with the players around them."""
    _known_pool(pool)
    caller = optional_player(request)
    return {
        "pool": pool,
        "game": game_of(pool),
        "speed": leaderboards.speed_of_pool(pool),
        "players": leaderboards.top(pool, query.limit),
        "me": leaderboards.around(caller.pk, pool) if caller is not None else None,
    }


@router.get("/players/{player_id}", response=answers({200: ProfileOut}, 400, 404))
def get_player(request: HttpRequest, player_id: int) -> dict:
    """A player's ratings, rating history and recent matches."""
    player = Player.objects.filter(pk=player_id).first()
    if player is None:
        raise GameError(ErrorCode.NOT_FOUND, f"no player {player_id}")
    return leaderboards.profile(player)


@router.get("/ratings", response=answers({200: RatingsOut}, 400, 404))
def get_ratings(request: HttpRequest, query: Query[RatingsIn]) -> dict:
    """Several players' ratings in one pool (``?pool=&players=1,2``), or the
    ratings of a match's players in its pool (``?match=7``): what a page shows
    beside names. An unrated player has the initial rating, provisional; an
    id that is no player is left out."""
    rated: bool | None = None
    if query.match is not None:
        match = Match.objects.filter(pk=query.match).first()
        if match is None:
            raise GameError(ErrorCode.NOT_FOUND, f"no match {query.match}")
        pool = pool_for(match.game, match.options)
        players = list(match.seats.order_by("seat").values_list("player_id", flat=True))
        rated = is_rated(match.options)
    elif query.pool is not None and query.players is not None:
        pool = _known_pool(query.pool)
        asked = [int(part) for part in query.players.split(",")]
        if len(asked) > MAX_PLAYERS:
            raise GameError(ErrorCode.BAD_REQUEST, f"at most {MAX_PLAYERS} players at once")
        existing = set(Player.objects.filter(pk__in=asked).values_list("pk", flat=True))
        players = [player for player in asked if player in existing]  # no rating for nobody
    else:
        raise GameError(ErrorCode.BAD_REQUEST, "give match, or pool and players")
    threshold = provisional_threshold()
    ratings = []
    for player, row in standings_of(players, pool).items():
        rating, deviation = (row.rating, row.deviation) if row else (INITIAL_RATING, INITIAL_DEVIATION)
        ratings.append({
            "player": player, "rating": shown(rating), "deviation": shown(deviation),
            "games": row.games if row else 0, "provisional": is_provisional(deviation, threshold),
        })  # fmt: skip
    return {"pool": pool, "rated": rated, "ratings": ratings}
