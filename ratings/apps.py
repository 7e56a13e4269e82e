from django.apps import AppConfig


class RatingsConfig(AppConfig):
    """Glicko-2 ratings per rating pool, leaderboards and player profiles."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ratings"
