"""Leaderboards and player profiles: the reads behind ``/api/leaderboards``,
``/api/players/<id>`` and their pages (and the leaderboard benchmark, which
times these very functions).

A pool's leaderboard holds its non-provisional ratings (deviation at most
``RATINGS_PROVISIONAL_DEVIATION``), best first. A rank is ``1 +`` the number
of them rated strictly higher, so ties share a rank (and are listed newest
player first). Every query walks the ``rating_leaderboard`` index,
``(pool, rating DESC, player DESC)`` with the deviation in it: the top N
reads N entries, a rank counts the entries above one rating, and the players
around someone are a few entries either side of theirs.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from games.engine.clocks import format_time
from games.engine.match import Status
from games.engine.options import is_rated
from games.models import Match, Player, Seat
from ratings.models import Rating, RatingChange
from ratings.pools import game_of, pools
from ratings.services import provisional_threshold, shown
from ratings.skill import is_provisional

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: players shown above and below the caller on a leaderboard
NEIGHBOURS = 2
HISTORY = 50  # rating changes on a profile
#: a leaderboard's order: best first; equal ratings (which share a rank) by
#: player id, the newest player first, so that the index serves every read
ORDER = ("-rating", "-player_id")
#: an entry's position in that order, for row comparisons
ENTRY = '("ratings_rating"."rating", "ratings_rating"."player_id")'
RECENT_MATCHES = 20  # matches on a profile


class Row(TypedDict):
    rank: int
    id: int
    name: str
    bot: bool
    rating: float
    deviation: float
    games: int


class Around(TypedDict):
    """The caller's place on a leaderboard, with the players next to them."""

    rank: int
    id: int
    name: str
    bot: bool
    rating: float
    deviation: float
    games: int
    above: list[Row]
    below: list[Row]


class Board(TypedDict):
    pool: str
    game: str
    speed: str | None
    players: int  # on the leaderboard (not provisional)
    rated: int  # with a rating in the pool, provisional ones included


class UnknownPool(LookupError):
    pass


def check_pool(pool: str) -> None:
    """Raise :class:`UnknownPool` unless ``pool`` is a pool of a registered game."""
    if pool not in pools():
        raise UnknownPool(pool)


def speed_of_pool(pool: str) -> str | None:
    return pool.split(".", 1)[1] if "." in pool else None


def ranked(pool: str) -> QuerySet[Rating]:
    """The ratings on ``pool``'s leaderboard (not provisional)."""
    return Rating.objects.filter(pool=pool, deviation__lte=provisional_threshold())


def _row(rating: Rating, rank: int) -> Row:
    return Row(
        rank=rank,
        id=rating.player_id,
        name=rating.player.name,
        bot=rating.player.is_bot,
        rating=shown(rating.rating),
        deviation=shown(rating.deviation),
        games=rating.games,
    )


def _ranked_rows(window: list[Rating], higher: int, at_least: int) -> list[Row]:
    """Rows of a run of the leaderboard (in its order), given how many ratings
    are above the run's first rating (``higher``) and at least it (``at_least``).

    A rating equal to the first one's shares its rank; a lower one is outranked
    by all of ``at_least`` plus the ratings of the run between them (the run is
    contiguous, so every rating between the two is in it)."""
    rows = []
    for index, rating in enumerate(window):
        if rating.rating == window[0].rating:
            rank = 1 + higher
        else:
            rank = 1 + at_least + sum(1 for other in window[:index] if rating.rating < other.rating < window[0].rating)
        rows.append(_row(rating, rank))
    return rows


def top(pool: str, limit: int = DEFAULT_LIMIT) -> list[Row]:
    """The best ``limit`` ratings of the pool's leaderboard, best first."""
    leaders = list(ranked(pool).select_related("player").order_by(*ORDER)[:limit])
    if not leaders:
        return []
    # The run starts at the top: every rating at least the best is in it.
    return _ranked_rows(leaders, 0, sum(1 for rating in leaders if rating.rating == leaders[0].rating))


def rank_of(pool: str, rating: float) -> int:
    """The rank ``rating`` has on the pool's leaderboard: one count over the index."""
    return 1 + ranked(pool).filter(rating__gt=rating).count()


def around(player_id: int, pool: str, neighbours: int = NEIGHBOURS) -> Around | None:
    """The player's rank on the pool's leaderboard with up to ``neighbours``
    players just above and just below, or None when the player has no rating
    there or a provisional one."""
    mine = Rating.objects.select_related("player").filter(pool=pool, player_id=player_id).order_by().first()
    if mine is None or is_provisional(mine.deviation, provisional_threshold()):
        return None
    board = ranked(pool).select_related("player")
    # The entries either side of the caller's in the board's order, each a
    # short index scan starting at (rating, player): a row comparison, which
    # follows the index (rating DESC, player DESC) in both directions.
    position = [mine.rating, mine.player_id]
    above = list(
        board.extra(where=[f"{ENTRY} > (%s, %s)"], params=position).order_by("rating", "player_id")[:neighbours]
    )
    below = list(board.extra(where=[f"{ENTRY} < (%s, %s)"], params=position).order_by(*ORDER)[:neighbours])
    window = [*reversed(above), mine, *below]
    first = window[0].rating
    # COUNT(rating), not COUNT(id): the index holds every column the count
    # reads, so PostgreSQL can count from the index alone (an index-only scan).
    counts = (
        ranked(pool)
        .filter(rating__gte=first)
        .aggregate(higher=Count("rating", filter=Q(rating__gt=first)), at_least=Count("rating"))
    )
    rows = _ranked_rows(window, counts["higher"], counts["at_least"])
    me = rows[len(above)]
    return Around(**me, above=rows[: len(above)], below=rows[len(above) + 1 :])


def boards() -> list[Board]:
    """Every pool where someone has a rating, with how many are on its
    leaderboard, in the order of :func:`ratings.pools.pools`."""
    threshold = provisional_threshold()
    counted = {
        row["pool"]: row
        for row in Rating.objects.values("pool").annotate(
            rated=Count("pk"), players=Count("pk", filter=Q(deviation__lte=threshold))
        )
    }
    known = pools()
    order = {pool: index for index, pool in enumerate(known)}
    listed = sorted((pool for pool in counted if pool in order), key=order.__getitem__)
    return [
        Board(
            pool=pool,
            game=game_of(pool),
            speed=speed_of_pool(pool),
            players=counted[pool]["players"],
            rated=counted[pool]["rated"],
        )
        for pool in listed
    ]


# --- profiles ---------------------------------------------------------------------


def profile(player: Player) -> dict[str, Any]:
    """A player's ratings per pool (with their rank), recent rating changes
    and recent matches, for ``GET /api/players/<id>``."""
    threshold = provisional_threshold()
    # Every pool's rank in the same statement (a player may be rated in
    # dozens of pools: bots are), each one count over the board's index.
    higher = (
        Rating.objects.filter(pool=OuterRef("pool"), rating__gt=OuterRef("rating"), deviation__lte=threshold)
        .order_by()
        .values("pool")
        .annotate(n=Count("pk"))
        .values("n")
    )
    ratings = []
    mine = Rating.objects.filter(player=player).annotate(
        higher=Coalesce(Subquery(higher, output_field=IntegerField()), 0)
    )
    for rating in mine.order_by("pool"):
        provisional = is_provisional(rating.deviation, threshold)
        ratings.append({
            "pool": rating.pool, "game": game_of(rating.pool), "speed": speed_of_pool(rating.pool),
            "rating": shown(rating.rating), "deviation": shown(rating.deviation), "provisional": provisional,
            "rank": None if provisional else 1 + rating.higher,
            "games": rating.games, "wins": rating.wins, "draws": rating.draws, "losses": rating.losses,
        })  # fmt: skip
    history = [
        {
            "match": change.match_id,
            "pool": change.pool,
            "at": format_time(change.at),
            "score": change.score,
            "before": shown(change.rating_before),
            "after": shown(change.rating_after),
            "change": shown(change.change),
            "deviation": shown(change.deviation_after),
        }
        for change in RatingChange.objects.filter(player=player).order_by("-at", "-id")[:HISTORY]
    ]
    return {
        "id": player.pk,
        "name": player.name,
        "bot": player.is_bot,
        "ratings": ratings,
        "history": history,
        "matches": recent_matches(player),
    }


def recent_matches(player: Player, limit: int = RECENT_MATCHES) -> list[dict[str, Any]]:
    """The player's latest matches (any status), newest first, with their
    opponents; ``result`` includes the rating changes of a rated one."""
    matches = list(Match.objects.filter(seats__player=player).order_by("-created_at", "-id")[:limit])
    seats: dict[int, list[Seat]] = {}
    for seat in Seat.objects.filter(match__in=matches).select_related("player").order_by("seat"):
        seats.setdefault(seat.match_id, []).append(seat)
    listed = []
    for match in matches:
        taken = seats.get(match.pk, [])
        mine = next((seat.seat for seat in taken if seat.player_id == player.pk), None)
        listed.append({
            "id": match.pk, "game": match.game, "status": match.status, "rated": is_rated(match.options),
            "seat": mine, "result": match.result if Status(match.status).over else None,
            "opponents": [
                {"seat": seat.seat, "id": seat.player_id, "name": seat.player.name, "bot": seat.player.is_bot}
                for seat in taken if seat.player_id != player.pk
            ],
            "at": format_time(match.finished_at or match.created_at),
        })  # fmt: skip
    return listed
