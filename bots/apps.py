from django.apps import AppConfig


class BotsConfig(AppConfig):
    """Computer opponents: bot players that move through the match service."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bots"
