import asyncio

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: events written to an outbox in the transaction that
    causes them, signed per Standard Webhooks and delivered with retries."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from games.api import mount
        from games.background import run_beside
        from webhooks import receivers  # noqa: F401  (connects the signal receivers)
        from webhooks.api import router
        from webhooks.checks import check_settings

        mount(router)
        checks.register(check_settings)
        run_beside("webhook sender", _run_sender, lambda: settings.WEBHOOKS_IN_PROCESS)


async def _run_sender(stop: asyncio.Event | None) -> None:
    """The sender loop, imported only when a process runs it."""
    from webhooks.sender import run_sender

    await run_sender(stop)
