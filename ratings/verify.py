"""Ratings recomputed from the log (``manage.py verify_ratings``).

Every finished rated match is replayed in order through the same arithmetic
as the live path (:func:`ratings.skill.rate`, with the same rule for which
matches count, :func:`ratings.services.counts`), starting from nothing, and
the outcome is compared with every stored :class:`Rating` and
:class:`RatingChange`.

The order is the order the matches finished (``finished_at``, then id), with
one refinement: matches that were rated keep those places but take them in
the order their ratings were written (their first ``RatingChange`` id). The
two orders differ only when two matches sharing a player end within
milliseconds: the one that locked the ratings first was rated first, whatever
the clock said, and the recomputation must follow what really happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Min

from games.engine.match import EventKind, Status
from games.models import Match, MatchEvent, Seat
from ratings.models import Rating, RatingChange
from ratings.pools import pool_for
from ratings.services import counts, input_seats
from ratings.skill import Standing, rate, scores

TOLERANCE = 1e-6  # float columns compared: the same arithmetic gives the same bits; this only forgives the database


@dataclass
class Expected:
    """A rating as the recomputation has it."""

    standing: Standing = field(default_factory=Standing)
    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0


@dataclass(frozen=True)
class ExpectedChange:
    seat: int
    pool: str
    score: float
    before: Standing
    after: Standing


def rated_matches() -> list[Match]:
    """The finished rated matches, in the order their ratings apply (see the module's docstring)."""
    finished = list(Match.objects.filter(status=Status.FINISHED, options__rated=True).order_by("finished_at", "id"))
    written = dict(RatingChange.objects.values("match_id").annotate(first=Min("id")).values_list("match_id", "first"))
    places = [index for index, match in enumerate(finished) if match.pk in written]
    in_write_order = sorted((finished[index] for index in places), key=lambda match: written[match.pk])
    for index, match in zip(places, in_write_order, strict=True):
        finished[index] = match
    return finished


def recompute() -> tuple[dict[tuple[int, str], Expected], dict[tuple[int, int], ExpectedChange]]:
    """Every rating and rating change, from the finished rated matches alone."""
    matches = rated_matches()
    ids = [match.pk for match in matches]
    moved: dict[int, set[int]] = {}
    for match_id, seat in (
        MatchEvent.objects.filter(match_id__in=ids, kind=EventKind.MOVE, seat__isnull=False)
        .values_list("match_id", "seat")
        .distinct()
    ):
        if seat is not None:
            moved.setdefault(match_id, set()).add(seat)
    ticks = MatchEvent.objects.filter(match_id__in=ids, kind=EventKind.TICKS).values_list("match_id", "move")
    for match_id, move in ticks:
        moved.setdefault(match_id, set()).update(input_seats(move))
    seated: dict[int, dict[int, int]] = {}
    for match_id, seat, player in Seat.objects.filter(match_id__in=ids).values_list("match_id", "seat", "player_id"):
        seated.setdefault(match_id, {})[seat] = player
    ratings: dict[tuple[int, str], Expected] = {}
    changes: dict[tuple[int, int], ExpectedChange] = {}
    for match in matches:
        players = seated.get(match.pk, {})
        if match.result is None or not counts(match.seat_count, players, moved.get(match.pk, set())):
            continue
        pool = pool_for(match.game, match.options)
        winner = match.result["winner"]
        order = [players[seat] for seat in range(match.seat_count)]
        current = [ratings.setdefault((player, pool), Expected()) for player in order]
        after = rate([expected.standing for expected in current], winner)
        for seat, (player, expected, new, score) in enumerate(
            zip(order, current, after, scores(len(order), winner), strict=True)
        ):
            changes[(match.pk, player)] = ExpectedChange(seat, pool, score, expected.standing, new)
            expected.standing = new
            expected.games += 1
            expected.wins += score == 1
            expected.draws += score == 0.5
            expected.losses += score == 0
    return ratings, changes


def _differ(stored: float, expected: float) -> bool:
    return abs(stored - expected) > TOLERANCE


def differences() -> Iterator[str]:
    """Every way the stored ratings and rating changes differ from the recomputation."""
    ratings, changes = recompute()
    stored_changes = {(change.match_id, change.player_id): change for change in RatingChange.objects.all()}
    for change_key in sorted(changes.keys() | stored_changes.keys()):
        match_id, player = change_key
        where = f"match {match_id}, player {player}"
        expected, stored = changes.get(change_key), stored_changes.get(change_key)
        if stored is None:
            yield f"{where}: no rating change stored; the match changes their rating"
            continue
        if expected is None:
            yield f"{where}: a rating change is stored, but the match changes no rating"
            continue
        fields = {
            "seat": (stored.seat, expected.seat),
            "pool": (stored.pool, expected.pool),
            "score": (stored.score, expected.score),
            "rating_before": (stored.rating_before, expected.before.rating),
            "rating_after": (stored.rating_after, expected.after.rating),
            "deviation_before": (stored.deviation_before, expected.before.deviation),
            "deviation_after": (stored.deviation_after, expected.after.deviation),
            "change": (stored.change, expected.after.rating - expected.before.rating),
        }
        yield from _compare(where, fields)
    stored_ratings = {(rating.player_id, rating.pool): rating for rating in Rating.objects.all()}
    for rating_key in sorted(ratings.keys() | stored_ratings.keys()):
        player, pool = rating_key
        where = f"player {player} in {pool}"
        recomputed, row = ratings.get(rating_key), stored_ratings.get(rating_key)
        if row is None:
            yield f"{where}: no rating stored; the log gives one"
            continue
        if recomputed is None:
            yield f"{where}: a rating is stored, but no rated match gives one"
            continue
        yield from _compare(where, {
            "rating": (row.rating, recomputed.standing.rating),
            "deviation": (row.deviation, recomputed.standing.deviation),
            "games": (row.games, recomputed.games),
            "wins": (row.wins, recomputed.wins),
            "draws": (row.draws, recomputed.draws),
            "losses": (row.losses, recomputed.losses),
        })  # fmt: skip


def _compare(where: str, fields: dict[str, tuple[object, object]]) -> Iterator[str]:
    for name, (stored, expected) in fields.items():
        if isinstance(stored, float) and isinstance(expected, float):
            if _differ(stored, expected):
                yield f"{where}: {name} stored {stored!r}, recomputed {expected!r}"
        elif stored != expected:
            yield f"{where}: {name} stored {stored!r}, recomputed {expected!r}"
