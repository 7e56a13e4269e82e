from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class GamesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "games"

    def ready(self) -> None:
        from games import lobby  # noqa: F401  (its signal receivers)
        from games.realtime import install

        install()

        # Every installed app's ``game_rules`` module registers its games
        # (see games.engine.registry), the built-in ones included.
        autodiscover_modules("game_rules")
