"""Strategies that misbehave (one never answers in time, one answers with an
illegal move), for the runner's tests (``tests/test_bots_service.py``). It lives in a module of its own, free of
Django, because the thinking process imports it by path. No tests here."""

from __future__ import annotations

import random
import time

from bots.levels import Level
from games.engine import Game, State
from games.engine.game import MoveJson


class NeverInTime:
    """Thinks for a minute, whatever its budget."""

    def choose(
        self, game: Game, state: State, seat: int, level: Level, rng: random.Random, deadline: float
    ) -> MoveJson | None:
        time.sleep(60)
        return None


class AlwaysIllegal:
    """Answers at once with a move no game accepts."""

    def choose(
        self, game: Game, state: State, seat: int, level: Level, rng: random.Random, deadline: float
    ) -> MoveJson | None:
        return {"column": 99}
