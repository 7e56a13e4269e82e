"""The computer's levels: what each one plays like, as plain data (no Django).

Every level plays every registered game. Level 1 picks a uniformly random
legal move. Levels 2 and 3 search (``bots.search``): level 2 looks two plies
ahead (it takes a win in one and blocks a loss in one, otherwise plays at
random), level 3 searches with its whole time budget (iterative-deepening
alpha-beta to prove wins and losses, then Monte Carlo tree search among the
moves not proven lost). Games with hidden information are not searched: the
bot plays a random legal move of its own seat at every level, since any
search would have to look at what its seat cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StrategyName(StrEnum):
    RANDOM = "random"
    SEARCH = "search"


@dataclass(frozen=True)
class Level:
    """One level of the computer."""

    number: int
    name: str
    strategy: StrategyName
    #: Seconds the bot may think about one move (the search stops by then).
    budget: float
    #: Plies the alpha-beta search may look ahead (``None``: as far as the budget allows).
    depth: int | None
    #: Whether the search goes on with Monte Carlo tree search when alpha-beta proved nothing.
    monte_carlo: bool
    description: str


LEVELS: dict[int, Level] = {
    level.number: level
    for level in (
        Level(1, "Random", StrategyName.RANDOM, 0.0, 0, False, "plays a random legal move"),
        Level(
            2, "Casual", StrategyName.SEARCH, 0.5, 2, False,
            "takes a win in one move and blocks one, otherwise plays at random",
        ),
        Level(
            3, "Strong", StrategyName.SEARCH, 2.0, None, True,
            "searches up to 2 s a move: proves wins and losses it can reach, then Monte Carlo tree search",
        ),
    )
}  # fmt: skip

#: A thinking process that has not answered this long after the budget is given up on.
GRACE_SECONDS = 3.0


def get_level(number: int) -> Level | None:
    return LEVELS.get(number)
