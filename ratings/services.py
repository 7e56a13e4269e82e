"""Ratings: the reads other apps use, and the rating of a finished match.

A rated match changes ratings exactly once, inside the transaction that ends
it: ``games.services`` sends ``games.signals.match_ending`` under the match's
row lock, :func:`on_match_ending` answers with the ratings it wrote, and the
engine adds them to the match's ``result`` (``result["ratings"]``) in the
same event everyone receives. A match ends once (its row lock), and the
unique ``(match, player)`` constraint on :class:`RatingChange` backstops it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from django.conf import settings

from games.engine.match import Event, EventKind, MatchData, Status
from games.engine.options import is_rated
from games.models import Match, MatchEvent
from ratings.models import Rating, RatingChange
from ratings.pools import pool_for
from ratings.skill import INITIAL_DEVIATION, INITIAL_RATING, Standing, is_provisional, rate, scores

__all__ = ["INITIAL_RATING", "RatingEntry", "input_seats", "on_match_ending", "ratings_of", "record_match"]

#: decimals of the figures in a match's ``result["ratings"]`` and the API
SHOWN_DECIMALS = 1


class RatingEntry(TypedDict):
    """One seat's line in a finished rated match's ``result["ratings"]``."""

    seat: int
    player: int
    pool: str
    before: float
    after: float
    change: float
    deviation: float  # after the match
    provisional: bool  # after the match


def provisional_threshold() -> float:
    return float(settings.RATINGS_PROVISIONAL_DEVIATION)


def shown(value: float) -> float:
    return round(value, SHOWN_DECIMALS)


# --- reads for other apps -----------------------------------------------------


def ratings_of(player_ids: Iterable[int], pool: str) -> dict[int, float]:
    """Each player's rating in ``pool`` (:data:`INITIAL_RATING` when unrated)."""
    ids = list(dict.fromkeys(player_ids))
    found = dict(Rating.objects.filter(pool=pool, player_id__in=ids).values_list("player_id", "rating"))
    return {player_id: float(found.get(player_id, INITIAL_RATING)) for player_id in ids}


def standings_of(player_ids: Iterable[int], pool: str) -> dict[int, Rating | None]:
    """Each player's :class:`Rating` row in ``pool``, or None when unrated."""
    ids = list(dict.fromkeys(player_ids))
    found = {row.player_id: row for row in Rating.objects.filter(pool=pool, player_id__in=ids)}
    return {player_id: found.get(player_id) for player_id in ids}


# --- which matches count --------------------------------------------------------


def counts(seat_count: int, players: Mapping[int, int], moved: set[int]) -> bool:
    """Whether a finished rated match changes ratings: every seat is taken
    and moved at least once (a match decided before both sides played, by
    a timeout or an early resignation, changes nothing, as on lichess)."""
    seats = set(range(seat_count))
    return seat_count >= 2 and set(players) == seats and seats <= moved


def moved_seats(match_id: int, ending: Event | None = None) -> set[int]:
    """The seats with at least one move in the log, or (a real-time game) an
    input applied at a logged tick; and those of ``ending``, the event that
    ends the match, which is not logged yet when it is rated."""
    logged = MatchEvent.objects.filter(match_id=match_id, kind=EventKind.MOVE, seat__isnull=False)
    seats = {seat for seat in logged.values_list("seat", flat=True).distinct() if seat is not None}
    ticks = MatchEvent.objects.filter(match_id=match_id, kind=EventKind.TICKS).values_list("move", flat=True)
    seats.update(seat for move in ticks for seat in input_seats(move))
    if ending is not None and ending["kind"] == EventKind.MOVE and ending["seat"] is not None:
        seats.add(ending["seat"])
    if ending is not None and ending["kind"] == EventKind.TICKS:
        seats.update(input_seats(ending["move"]))
    return seats


def input_seats(ticks: Any) -> set[int]:
    """The seats whose inputs a logged ``ticks`` event applied (its ``move``)."""
    return {seat for seat, _ in ticks["inputs"]} if isinstance(ticks, dict) else set()


# --- rating a finished match ------------------------------------------------------


def on_match_ending(sender: Any, match: Match, data: MatchData, event: Event, **kwargs: Any) -> dict[str, Any] | None:
    """``match_ending``'s receiver: rate a rated match that finished with every
    seat having moved, and give the engine ``{"ratings": [...]}`` for its
    result. Anything else (casual, aborted, decided before everyone moved)
    changes nothing."""
    result = data["result"]
    if not is_rated(data["options"]) or data["status"] != Status.FINISHED or result is None:
        return None
    players = {player["seat"]: player["id"] for player in data["players"]}
    if not counts(data["seats"], players, moved_seats(match.pk, event)):
        return None
    pool = pool_for(data["game"], data["options"])
    at = datetime.fromisoformat(event["at"])
    entries = record_match(match.pk, pool, [players[seat] for seat in range(data["seats"])], result["winner"], at)
    return {"ratings": entries}


def record_match(match_id: int, pool: str, players: list[int], winner: int | None, at: datetime) -> list[RatingEntry]:
    """Rate one finished match (``players`` by seat): lock the players'
    ratings in ``pool``, apply :func:`ratings.skill.rate`, store the new
    ratings and one :class:`RatingChange` per player. Must run inside the
    transaction that ends the match."""
    rows = _locked_ratings(players, pool, at)
    before = [Standing(rows[player].rating, rows[player].deviation) for player in players]
    after = rate(before, winner)
    threshold = provisional_threshold()
    changes, entries = [], []
    outcomes = zip(players, before, after, scores(len(players), winner), strict=True)
    for seat, (player, old, new, score) in enumerate(outcomes):
        row = rows[player]
        row.rating, row.deviation, row.updated_at = new.rating, new.deviation, at
        row.games += 1
        row.wins += score == 1
        row.draws += score == 0.5
        row.losses += score == 0
        changes.append(RatingChange(
            match_id=match_id, player_id=player, seat=seat, pool=pool, score=score,
            rating_before=old.rating, rating_after=new.rating, deviation_before=old.deviation,
            deviation_after=new.deviation, change=new.rating - old.rating, at=at,
        ))  # fmt: skip
        entries.append(RatingEntry(
            seat=seat, player=player, pool=pool, before=shown(old.rating), after=shown(new.rating),
            change=shown(new.rating - old.rating), deviation=shown(new.deviation),
            provisional=is_provisional(new.deviation, threshold),
        ))  # fmt: skip
    Rating.objects.bulk_update(rows.values(), ["rating", "deviation", "games", "wins", "draws", "losses", "updated_at"])
    RatingChange.objects.bulk_create(changes)  # a second rating of this match fails here: the backstop
    return entries


def _locked_ratings(players: list[int], pool: str, at: datetime) -> dict[int, Rating]:
    """The players' rating rows in ``pool``, created at the initial rating
    where missing, locked for this transaction.

    Always in player id order, both the inserts and the locks: two matches
    ending at once that share a player then wait for each other instead of
    deadlocking. The insert ignores a row another transaction created
    meanwhile (it waits for that one to commit first), so a player's first
    two rated matches ending together cannot fail on the unique constraint.
    """
    order = sorted(set(players))
    existing = set(Rating.objects.filter(pool=pool, player_id__in=order).values_list("player_id", flat=True))
    missing = [player for player in order if player not in existing]
    if missing:
        Rating.objects.bulk_create(
            [
                Rating(player_id=player, pool=pool, rating=INITIAL_RATING, deviation=INITIAL_DEVIATION, updated_at=at)
                for player in missing
            ],
            ignore_conflicts=True,
        )
    locked = Rating.objects.select_for_update().filter(pool=pool, player_id__in=order).order_by("player_id")
    return {row.player_id: row for row in locked}
