"""The engine: the game contract, the registry, and the pure match fold.

What a game's author imports::

    from games.engine import Game, IllegalMove, MoveModel, OptionsModel, Result, register
"""

from games.engine.game import Game, IllegalMove, InvalidOptions, MoveModel, NoOptions, OptionsModel, Result, State
from games.engine.registry import UnknownGame, all_games, get_game, register

__all__ = [
    "Game",
    "IllegalMove",
    "InvalidOptions",
    "MoveModel",
    "NoOptions",
    "OptionsModel",
    "Result",
    "State",
    "UnknownGame",
    "all_games",
    "get_game",
    "register",
]
