from django.apps import AppConfig


class MatchmakingConfig(AppConfig):
    """Quick play: a queue of seeks per pool, paired in waves by rating."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "matchmaking"

    def ready(self) -> None:
        from games import clock, monitoring
        from games.api import mount
        from matchmaking import services
        from matchmaking.api import router

        # /api/queue joins the one API: its authentication, error envelope and OpenAPI schema.
        mount(router)
        # The waves run wherever a clock loop runs (the worker, or each server
        # process); the task keeps its own period, MATCHMAKING_WAVE_SECONDS.
        clock.every_sweep(services.run_waves)
        monitoring.count_sockets_as("queue", "QueueConsumer")
