"""How a bot chooses a move: strategies, pure Python (no Django).

A strategy gets the game, the position, its seat, its level and a deadline,
and returns a move as the JSON a client would send. Every game is played by
the generic ones here; a game's app may register a better strategy for its
game (:func:`register_strategy`) by naming a factory by its import path, so
a thinking process (``bots.thinking``) can build it without Django.

Games with hidden information are never searched (:func:`plan`): a search
would read the whole state, hidden parts included. The bot plays a random
legal move of its own seat there, at every level; what is legal for a seat
is what the rules tell that seat anyway, and nothing else goes into the choice.
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from bots.levels import Level, StrategyName
from bots.search import Search
from games.engine import Game, State
from games.engine.game import MoveJson


class Strategy(Protocol):
    def choose(
        self, game: Game, state: State, seat: int, level: Level, rng: random.Random, deadline: float
    ) -> MoveJson | None:
        """The move ``seat`` plays in ``state`` (``None``: it has none), by
        ``deadline`` (a ``time.monotonic()`` value)."""
        ...


@dataclass(frozen=True)
class StrategySpec:
    """A strategy by its factory's import path (``"package.module:name"``)
    and the settings it is built with (hashable, picklable)."""

    factory: str
    config: tuple[tuple[str, str], ...] = ()


class RandomStrategy:
    """A uniformly random legal move (level 1, and hidden-information games)."""

    def choose(
        self, game: Game, state: State, seat: int, level: Level, rng: random.Random, deadline: float
    ) -> MoveJson | None:
        return game.random_move(state, seat, rng)


class SearchStrategy:
    """The generic searching player (``bots.search``) for perfect-information games."""

    def choose(
        self, game: Game, state: State, seat: int, level: Level, rng: random.Random, deadline: float
    ) -> MoveJson | None:
        search = Search(game, state, seat, rng, deadline, max_depth=level.depth, monte_carlo=level.monte_carlo)
        return search.best_move()


def random_strategy() -> Strategy:
    return RandomStrategy()


def search_strategy() -> Strategy:
    return SearchStrategy()


RANDOM = StrategySpec("bots.strategies:random_strategy")
GENERIC_SEARCH = StrategySpec("bots.strategies:search_strategy")

_by_game: dict[str, StrategySpec] = {}


def register_strategy(game_slug: str, factory: str, **config: str) -> None:
    """Use ``factory`` (``"module:callable"``, called with ``config`` as
    keyword arguments, returning a :class:`Strategy`) for the searching
    levels of ``game_slug``, instead of the generic search."""
    _by_game[game_slug] = StrategySpec(factory, tuple(sorted(config.items())))


def plan(game: Game, level: Level) -> StrategySpec:
    """The strategy ``level`` plays ``game`` with."""
    if level.strategy == StrategyName.RANDOM or game.hidden_information:
        return RANDOM
    return _by_game.get(game.slug, GENERIC_SEARCH)


@cache
def build(spec: StrategySpec) -> Strategy:
    """The strategy ``spec`` names, built once per process (so what it keeps
    between moves, such as a UCI engine process, is kept)."""
    module, _, name = spec.factory.partition(":")
    factory: Callable[..., Strategy] = getattr(importlib.import_module(module), name)
    return factory(**dict(spec.config))


def choose(
    spec: StrategySpec, game: Game, state: State, seat: int, level: Level, seed: int, budget: float
) -> MoveJson | None:
    """Run ``spec`` for one decision with ``budget`` seconds, from now."""
    deadline = time.monotonic() + budget
    return build(spec).choose(game, state, seat, level, random.Random(seed), deadline)
