"""Rating pools: which ratings a match counts towards (pure Python, no Django).

A pool is the game's slug, and for a match with a clock the game's slug and a
speed category, e.g. ``"chess.blitz"``: one player is rated separately per
game and per speed, as lichess splits bullet, blitz, rapid and classical.

The speed comes from the estimated duration of one side's clock,
``initial + 40 * increment`` seconds (40 moves is a typical game), with
lichess's boundaries:

=============  ==========================
speed          estimated duration
=============  ==========================
ultrabullet    under 30 s
bullet         30 s to under 3 min
blitz          3 min to under 8 min
rapid          8 min to under 25 min
classical      25 min or more
=============  ==========================
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from games.engine.registry import all_games

#: moves assumed per game when estimating a clock's duration (lichess's figure)
ESTIMATED_MOVES = 40


class Speed(enum.StrEnum):
    ULTRABULLET = "ultrabullet"
    BULLET = "bullet"
    BLITZ = "blitz"
    RAPID = "rapid"
    CLASSICAL = "classical"


#: (speed, estimated durations strictly below this many seconds), in order;
#: classical is everything from the last boundary on.
SPEED_LIMITS: tuple[tuple[Speed, int], ...] = (
    (Speed.ULTRABULLET, 30),
    (Speed.BULLET, 180),
    (Speed.BLITZ, 480),
    (Speed.RAPID, 1500),
)


def speed_of(initial: int, increment: int = 0) -> Speed:
    """The speed category of a clock of ``initial`` seconds plus ``increment``
    seconds per move."""
    estimate = initial + ESTIMATED_MOVES * increment
    for speed, limit in SPEED_LIMITS:
        if estimate < limit:
            return speed
    return Speed.CLASSICAL


def pool_for(game: str, options: Mapping[str, Any]) -> str:
    """The rating pool of a match of ``game`` with these (validated) options."""
    clock = options.get("clock")
    if not isinstance(clock, Mapping):
        return game
    return f"{game}.{speed_of(int(clock['initial']), int(clock.get('increment', 0)))}"


def game_of(pool: str) -> str:
    """The game slug of a pool (slugs never contain a dot)."""
    return pool.split(".", 1)[0]


def pools_of(game: str) -> list[str]:
    """Every pool a match of ``game`` can count towards: untimed, then each
    speed from the fastest."""
    return [game, *(f"{game}.{speed}" for speed in Speed)]


def pools(games: Iterable[str] | None = None) -> list[str]:
    """Every pool of the registered games (or of ``games``), game by game."""
    slugs = [game.slug for game in all_games()] if games is None else list(games)
    return [pool for slug in slugs for pool in pools_of(slug)]


def is_pool(pool: str) -> bool:
    """Whether ``pool`` names a pool of a registered game."""
    return pool in pools()
