from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: events written to an outbox in the transaction that
    causes them, signed per Standard Webhooks and delivered with retries."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from games.api import mount
        from webhooks import receivers  # noqa: F401  (connects the signal receivers)
        from webhooks.api import router

        mount(router)
