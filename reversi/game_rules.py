"""Registers reversi with the engine. ``GamesConfig.ready`` imports this
module because the app is installed; nothing else refers to it."""

from games.engine import register
from reversi.rules import Reversi

register(Reversi)
