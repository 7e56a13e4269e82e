from django.apps import AppConfig


class ClassicGamesConfig(AppConfig):
    """The built-in games. Nothing to do at startup: ``games`` imports every
    installed app's ``game_rules`` module, this one's included."""

    name = "classic_games"
    verbose_name = "Classic games"
