from django.apps import AppConfig


class TournamentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tournaments"

    def ready(self) -> None:
        from games import clock, monitoring
        from games.signals import match_ended
        from tournaments import services

        match_ended.connect(services.on_match_ended, dispatch_uid="tournaments.on_match_ended")
        clock.every_sweep(services.start_due)
        monitoring.count_sockets_as("tournament", "TournamentConsumer")
