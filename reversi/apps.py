from django.apps import AppConfig


class ReversiConfig(AppConfig):
    """No models and no ``ready``: the engine imports ``reversi.game_rules``
    itself (``GamesConfig.ready`` autodiscovers every app's ``game_rules``),
    and the staticfiles app finds ``static/reversi/board.js``."""

    name = "reversi"
    verbose_name = "Reversi"
