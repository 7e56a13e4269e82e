from django.apps import AppConfig


class MatchmakingConfig(AppConfig):
    """Quick play: a queue of seeks per pool, paired in waves by rating."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "matchmaking"
