"""The game registry: a slug names a game's rules. Add a game by writing a
module beside this one and listing an instance in ``GAMES``."""

from games.rules.base import Game, IllegalMove, InvalidOptions, Result
from games.rules.battleship import Battleship
from games.rules.chess import Chess
from games.rules.connect4 import ConnectFour
from games.rules.tictactoe import TicTacToe

GAMES: dict[str, Game] = {game.slug: game for game in (TicTacToe(), ConnectFour(), Chess(), Battleship())}


class UnknownGame(KeyError):
    pass


def get_game(slug: str) -> Game:
    try:
        return GAMES[slug]
    except KeyError:
        raise UnknownGame(slug) from None


__all__ = ["GAMES", "Game", "IllegalMove", "InvalidOptions", "Result", "UnknownGame", "get_game"]
