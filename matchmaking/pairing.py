"""Who plays whom: the pairing of one pool's waiting seeks in a wave. Pure
Python (no Django), deterministic given its input, so the server, the tests
and the benchmark's simulation (``bench/matchmaking_sim.py``) run the same
function.

The rule (as lichess's pools pair, in waves):

* A pair's **score** is its rating difference minus a bonus for the time both
  players have waited::

      score(a, b) = |rating(a) - rating(b)| - WIDEN_PER_SECOND * (bonus_seconds(a) + bonus_seconds(b))
      bonus_seconds(p) = min(seconds p has waited, MAX_BONUS_SECONDS)

* A pair is **acceptable** when ``score <= BASE_RANGE``: two newcomers are
  paired only within 100 points of each other, and every second either has
  waited widens that by 10 points, up to 600 points each (after a minute),
  so the widest pairing is 1,300 points apart.
* Among acceptable pairs the lowest score goes first (so, at equal
  difference, whoever waited longest), each seek in at most one pair; ties
  are broken by the longer wait, then by the seek ids.
* Never a player with themselves (two tabs hold the same seek, and the
  function refuses two seeks of one player anyway).
* Never the same two players twice in a row (either one's last opponent is
  the other) while someone else waits whom either of them could ever be
  paired with (within the widest range, 1,300 points); when only they wait,
  or everyone else is out of both players' reach for good, they may play
  again rather than wait forever.
* Colours: seat 0 goes to the lower seek id when the two ids add up to an
  even number, else to the higher: nobody chooses, and neither waiting
  longer nor seeking first decides it.

When waves run (the server's choice, not this module's): every few seconds,
and at once for a new seek in a pool where someone else waits, unless that is
turned off (``MATCHMAKING_PAIR_AT_ONCE``; docs/matchmaking.md compares both).

A seek may ask for a computer opponent after ``bot_after`` seconds: once it
has waited that long and is not paired with a person in the wave, it is due
for a bot (:attr:`Wave.bots`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

#: rating points apart two players who have not waited may be paired
BASE_RANGE = 100.0
#: rating points the acceptable difference widens per second each player waited
WIDEN_PER_SECOND = 10.0
#: seconds of waiting, per player, that still widen the range
MAX_BONUS_SECONDS = 60.0
#: the widest acceptable difference (two players who both waited the longest)
MAX_RANGE = BASE_RANGE + 2 * WIDEN_PER_SECOND * MAX_BONUS_SECONDS


@dataclass(frozen=True)
class Candidate:
    """A waiting seek as the pairing sees it. ``since`` and the wave's
    ``now`` are seconds on one clock (the server uses the Unix epoch);
    ``last_opponent`` is the player id of the player's previous quick-play
    opponent, if any; ``bot_after`` the seconds after which a computer
    opponent is wanted (``None``: never)."""

    seek: int
    player: int
    rating: float
    since: float
    last_opponent: int | None = None
    bot_after: float | None = None

    def bonus(self, now: float) -> float:
        """The rating points this player's wait adds to every pair's range."""
        return WIDEN_PER_SECOND * min(max(now - self.since, 0.0), MAX_BONUS_SECONDS)


@dataclass(frozen=True)
class Pair:
    """Two seeks to start a match: ``first`` takes seat 0. ``score`` is the
    pair's score, ``difference`` their rating difference."""

    first: Candidate
    second: Candidate
    score: float
    difference: float


@dataclass(frozen=True)
class Wave:
    """What one wave decided: the pairs, and the seeks due for a bot."""

    pairs: list[Pair] = field(default_factory=list)
    bots: list[Candidate] = field(default_factory=list)


def score(a: Candidate, b: Candidate, now: float) -> float:
    """``|rating(a) - rating(b)|`` minus both players' waiting bonus (lower is better)."""
    return abs(a.rating - b.rating) - a.bonus(now) - b.bonus(now)


def acceptable(a: Candidate, b: Candidate, now: float) -> bool:
    """Whether ``a`` and ``b`` are close enough to be paired now (the repeat
    rule is the wave's: see :func:`pair_wave`)."""
    return a.player != b.player and score(a, b, now) <= BASE_RANGE


def is_repeat(a: Candidate, b: Candidate) -> bool:
    """Whether ``a`` and ``b`` played each other last (either's last opponent is the other)."""
    return a.last_opponent == b.player or b.last_opponent == a.player


def _without_avoidable_repeats(
    options: list[tuple[float, float, int, int, int, int]], ordered: Sequence[Candidate]
) -> list[tuple[float, float, int, int, int, int]]:
    """The acceptable pairs minus each repeat of a last pairing while
    someone else waits whom either player could ever be paired with."""
    widest = BASE_RANGE + 2 * WIDEN_PER_SECOND * MAX_BONUS_SECONDS

    def someone_else_for(a: Candidate, b: Candidate) -> bool:
        return any(
            c.player not in (a.player, b.player) and min(abs(c.rating - a.rating), abs(c.rating - b.rating)) <= widest
            for c in ordered
        )

    return [
        option
        for option in options
        if not is_repeat(ordered[option[4]], ordered[option[5]])
        or not someone_else_for(ordered[option[4]], ordered[option[5]])
    ]


def pair_wave(candidates: Sequence[Candidate], now: float) -> Wave:
    """Pair one pool's waiting seeks (see the module's docstring for the
    rule); the order of ``candidates`` does not matter."""
    ordered = sorted(candidates, key=lambda c: (c.rating, c.seek))
    ratings = [c.rating for c in ordered]
    most_bonus = max((c.bonus(now) for c in ordered), default=0.0)
    options: list[tuple[float, float, int, int, int, int]] = []
    for i, a in enumerate(ordered):
        # Only partners within the widest difference ``a`` could accept:
        # the sweep stays near-linear in the pool's size.
        reach = BASE_RANGE + a.bonus(now) + most_bonus
        end = bisect.bisect_right(ratings, a.rating + reach, lo=i + 1)
        for j in range(i + 1, end):
            b = ordered[j]
            if acceptable(a, b, now):
                low, high = sorted((a.seek, b.seek))
                options.append((score(a, b, now), min(a.since, b.since), low, high, i, j))
    options = _without_avoidable_repeats(options, ordered)
    options.sort()
    taken: set[int] = set()
    pairs: list[Pair] = []
    for pair_score, _, low, high, i, j in options:
        if i in taken or j in taken:
            continue
        taken.update((i, j))
        a, b = ordered[i], ordered[j]
        by_id = (a, b) if a.seek == low else (b, a)
        first, second = by_id if (low + high) % 2 == 0 else by_id[::-1]
        pairs.append(Pair(first, second, pair_score, abs(a.rating - b.rating)))
    bots = [
        c
        for index, c in enumerate(ordered)
        if index not in taken and c.bot_after is not None and now - c.since >= c.bot_after
    ]
    return Wave(pairs, sorted(bots, key=lambda c: c.seek))
