"""Registers Nim in the server processes that install this app."""

from games.engine import register
from tests.nim_app.rules import Nim

register(Nim)
