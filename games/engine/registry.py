"""The game registry: every game the server plays, by slug.

Games join it from any installed Django app: the app ships a ``game_rules``
module that calls :func:`register` (``GamesConfig.ready`` imports every
installed app's ``game_rules`` with Django's ``autodiscover_modules``, as the
admin does with ``admin`` modules). Pure Python: the rules tests use it
without Django.
"""

from __future__ import annotations

import re
from typing import TypeVar

from games.engine.game import Game, MoveModel

SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # fits Match.game (32 characters) and a URL


class UnknownGame(KeyError):
    pass


class InvalidGame(TypeError):
    """A game class that does not meet the contract (a programming error,
    raised at registration so it shows at startup, not at the first move)."""


_games: dict[str, Game] = {}
G = TypeVar("G", bound=type[Game])


def register(cls: G) -> G:
    """Register a game class (usable as a class decorator); its slug must be
    new. Registering the same class again is a no-op (module reloads)."""
    game = cls()
    _check(game)
    existing = _games.get(game.slug)
    if existing is not None and _name(type(existing)) != _name(cls):
        raise InvalidGame(f"two games are registered as {game.slug!r}: {type(existing)!r} and {cls!r}")
    _games[game.slug] = game
    return cls


def _name(cls: type) -> str:
    """A class's full name: the same after a module reload, unlike the
    class itself; two apps' games of one class name still differ."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _check(game: Game) -> None:
    cls = type(game)
    for attribute in ("slug", "name", "min_players", "max_players", "Move"):
        if not hasattr(cls, attribute):
            raise InvalidGame(f"{cls.__qualname__} has no {attribute}")
    if not SLUG.match(game.slug):
        raise InvalidGame(f"{cls.__qualname__}.slug {game.slug!r} must match {SLUG.pattern}")
    if not 1 <= game.min_players <= game.max_players:
        raise InvalidGame(f"{cls.__qualname__}: need 1 <= min_players <= max_players")
    if not (isinstance(game.Move, type) and issubclass(game.Move, MoveModel)):
        raise InvalidGame(f"{cls.__qualname__}.Move must be a games.engine.MoveModel subclass")
    for method in ("initial_state", "turn", "apply_move", "result", "legal_moves"):
        if getattr(cls, method) is getattr(Game, method):
            raise InvalidGame(f"{cls.__qualname__} does not implement {method}")
    _check_time(game)
    try:
        game.describe()  # what GET /api/games lists: one game's failure must not empty the list
    except Exception as problem:
        raise InvalidGame(f"{cls.__qualname__}: no JSON Schema for its Move or Options ({problem})") from None


def _check_time(game: Game) -> None:
    """A game advances with time only as a :class:`RealtimeGame` (its loop
    calls ``apply_tick``), and frames go to every viewer alike: a real-time
    game hides nothing."""
    from games.engine.realtime import RealtimeGame

    name = type(game).__qualname__
    if not isinstance(game, RealtimeGame):
        if game.tick_ms is not None:
            raise InvalidGame(f"{name}.tick_ms: only a RealtimeGame advances with time; leave it None")
        return
    if not isinstance(game.tick_ms, int) or not 10 <= game.tick_ms <= 1000:
        raise InvalidGame(f"{name}.tick_ms must be whole milliseconds from 10 to 1000")
    if type(game).apply_tick is RealtimeGame.apply_tick:
        raise InvalidGame(f"{name} does not implement apply_tick")
    if game.hidden_information:
        raise InvalidGame(f"{name}: a real-time game's frames go to everyone; it cannot hide information")


def get_game(slug: str) -> Game:
    try:
        return _games[slug]
    except KeyError:
        raise UnknownGame(slug) from None


def all_games() -> list[Game]:
    """Every registered game, in registration order."""
    return list(_games.values())
