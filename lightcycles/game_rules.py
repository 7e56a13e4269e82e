"""Registers light cycles with the engine. ``GamesConfig.ready`` imports this
module because the app is installed; nothing else refers to it."""

from games.engine import register
from lightcycles.rules import LightCycles

register(LightCycles)
