"""Rating arithmetic: what one finished match does to its players' ratings
(pure Python, no Django; the receiver and ``verify_ratings`` both call
:func:`rate`, so a recomputation is the same arithmetic as the live path).

The model is Weng-Lin's Bayesian rating (the ``openskill`` package's
Plackett-Luce model): each rating is a mean (``rating``) and a standard
deviation (``deviation``), like Glicko's rating and RD, updated in closed form
after each match. It rates any number of seats and draws (``ranks=[1, 1]``),
so games for more than two players need nothing else.

The constants put it on the familiar Elo/Glicko scale:

* :data:`INITIAL_RATING` 1500 and :data:`INITIAL_DEVIATION` 350: a new
  player, as in Glicko and on lichess.
* :data:`BETA` 100: the spread of one game's performance. Two settled players
  (deviation about 70) then have a logistic scale
  ``sqrt(2 * 100² + 70² + 70²) ≈ 173 ≈ 400 / ln 10``: a 400-point gap is
  10-to-1 odds, as in Elo, and a settled player beating an equal one gains
  about 14 points (Elo with K = 28).
* :data:`TAU` 5: uncertainty added before each game, so a deviation levels
  off at about 53 (after a few hundred games) instead of shrinking towards
  zero and freezing the rating.

With these, a new player's deviation falls under 175 (the default
``RATINGS_PROVISIONAL_DEVIATION``) after 10 to 14 games against players with
settled ratings, and after about 22 when everyone in the pool is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openskill.models import PlackettLuce

INITIAL_RATING = 1500.0
INITIAL_DEVIATION = 350.0
BETA = 100.0
TAU = 5.0

MODEL = PlackettLuce(mu=INITIAL_RATING, sigma=INITIAL_DEVIATION, beta=BETA, tau=TAU)


@dataclass(frozen=True)
class Standing:
    """A rating as the model sees it: mean and standard deviation."""

    rating: float = INITIAL_RATING
    deviation: float = INITIAL_DEVIATION


def scores(seats: int, winner: int | None) -> list[float]:
    """Each seat's score: 1 for the winner and 0 for the others, or 0.5 each
    in a draw (``winner`` None)."""
    if winner is None:
        return [0.5] * seats
    return [1.0 if seat == winner else 0.0 for seat in range(seats)]


def rate(standings: Sequence[Standing], winner: int | None) -> list[Standing]:
    """The seats' standings after a match that ``winner`` won (None: a draw),
    one per seat in seat order."""
    if len(standings) < 2:
        raise ValueError("a rated match has at least two seats")
    if winner is not None and not 0 <= winner < len(standings):
        raise ValueError(f"no seat {winner}")
    teams = [[MODEL.rating(mu=standing.rating, sigma=standing.deviation)] for standing in standings]
    # Rank 1 wins; equal ranks draw.
    ranks = [1.0 if winner is None or seat == winner else 2.0 for seat in range(len(standings))]
    rated = MODEL.rate(teams, ranks=ranks)
    return [Standing(float(team[0].mu), float(team[0].sigma)) for team in rated]


def is_provisional(deviation: float, threshold: float) -> bool:
    """Whether a rating with this deviation is still a guess (kept off leaderboards)."""
    return deviation > threshold
