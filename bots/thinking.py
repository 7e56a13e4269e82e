"""One decision of a bot, as a picklable request, run in a thinking process.

Thinking runs in a pool of processes of its own (``bots.runner``), so a
search never holds a server's interpreter (its event loop keeps its core)
and a search that overruns can be stopped by terminating its process. The
process imports nothing of Django: the game class and the strategy factory
travel by import path.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from bots.levels import LEVELS
from bots.strategies import StrategySpec, choose
from games.engine import Game, State
from games.engine.game import MoveJson


@dataclass(frozen=True)
class ThinkRequest:
    game: str  # the Game class, "module:qualname"
    state: State
    seat: int
    level: int
    strategy: StrategySpec
    seed: int
    budget: float


def game_path(game: Game) -> str:
    cls = type(game)
    return f"{cls.__module__}:{cls.__qualname__}"


@cache
def game_of(path: str) -> Game:
    """The game whose class ``path`` names, one instance per process."""
    module, _, name = path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls()


def think(request: ThinkRequest) -> MoveJson | None:
    """The move the request's strategy chooses (in the thinking process)."""
    return choose(
        request.strategy,
        game_of(request.game),
        request.state,
        request.seat,
        LEVELS[request.level],
        request.seed,
        request.budget,
    )


def warm_up() -> bool:
    """Nothing: a first task, so a new process has imported everything before a real one arrives."""
    return True
