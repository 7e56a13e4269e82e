"""Registers the built-in games, exactly as a third-party app registers its
own (``GamesConfig.ready`` imports this module through
``autodiscover_modules("game_rules")``).

Registered here rather than by decorators in their modules so the order is
fixed, whoever imports a game module first: it is the order ``GET
/api/games`` lists them in.
"""

from classic_games.battleship import Battleship
from classic_games.chess import Chess
from classic_games.connect4 import ConnectFour
from classic_games.tictactoe import TicTacToe
from games.engine import register

for game in (TicTacToe, ConnectFour, Chess, Battleship):
    register(game)
