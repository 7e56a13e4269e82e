from django.apps import AppConfig


class RatingsConfig(AppConfig):
    """Ratings per rating pool (Weng-Lin, the ``openskill`` package),
    leaderboards and player profiles."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ratings"

    def ready(self) -> None:
        from games.api import mount
        from games.signals import match_ending
        from ratings import services
        from ratings.api import router

        # /api/leaderboards, /api/players/<id>, /api/ratings join the one API:
        # its authentication, error envelope and OpenAPI schema.
        mount(router)
        # A finished rated match changes its players' ratings in the
        # transaction that ends it; the ratings go into its result.
        match_ending.connect(services.on_match_ending, dispatch_uid="ratings.on_match_ending")
