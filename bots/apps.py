from django.apps import AppConfig


class BotsConfig(AppConfig):
    """Computer opponents: bot players that move through the match service."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bots"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from bots.api import router
        from bots.runner import on_event_logged, runner
        from games import clock
        from games.api import mount
        from games.signals import event_logged

        mount(router)
        event_logged.connect(on_event_logged, dispatch_uid="bots.on_event_logged")
        clock.every_sweep(runner.sweep)
        # Games' own strategies (classic_games registers chess's): each
        # installed app's bot_strategies module, as the engine finds game_rules.
        autodiscover_modules("bot_strategies")
