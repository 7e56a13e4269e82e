from django.apps import AppConfig


class TournamentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tournaments"

    def ready(self) -> None:
        from games import clock, monitoring
        from games.api import mount
        from games.signals import match_ended
        from tournaments import services
        from tournaments.api import router

        # The endpoints join the one API (/api/tournaments...), so they share
        # its authentication, error envelope and OpenAPI schema.
        mount(router)

        match_ended.connect(services.on_match_ended, dispatch_uid="tournaments.on_match_ended")
        clock.every_sweep(services.start_due)
        monitoring.count_sockets_as("tournament", "TournamentConsumer")
