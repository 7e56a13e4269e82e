"""The computer's strategy for chess, registered with the bots app (which
imports every installed app's ``bot_strategies`` module, as the engine does
``game_rules``): python-chess over a UCI engine when ``CHESS_ENGINE`` is set,
else a built-in search. Every other game here plays the bots' generic search."""

from django.conf import settings

from bots.strategies import register_strategy

register_strategy("chess", "classic_games.chess_bot:ChessStrategy", engine=settings.CHESS_ENGINE)
