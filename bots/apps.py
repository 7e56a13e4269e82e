from django.apps import AppConfig


class BotsConfig(AppConfig):
    """Computer opponents: bot players that move through the match service."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bots"

    def ready(self) -> None:
        from django.conf import settings

        from bots.api import router
        from bots.runner import on_event_logged, runner
        from bots.strategies import register_strategy
        from games import clock
        from games.api import mount
        from games.signals import event_logged

        mount(router)
        event_logged.connect(on_event_logged, dispatch_uid="bots.on_event_logged")
        clock.every_sweep(runner.sweep)
        # The one game-specific strategy: chess over a UCI engine (or the
        # built-in chess search). Other games' apps may register theirs.
        register_strategy("chess", "bots.chess_strategy:ChessStrategy", engine=settings.CHESS_ENGINE)
