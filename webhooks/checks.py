"""System checks of the webhook settings (``manage.py check``, and every
command that runs the checks): settings that would make the sender send a
message twice, never retry, or fail on every https endpoint."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error


def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Errors for webhook settings the sender cannot work with."""
    return [*_claim_outlasts_attempt(), *_schedule_is_usable(), *_ca_bundle_exists()]


def _claim_outlasts_attempt() -> list[CheckMessage]:
    claim, timeout = settings.WEBHOOKS_CLAIM_SECONDS, settings.WEBHOOKS_TIMEOUT_SECONDS
    if claim > timeout:
        return []
    return [
        Error(
            f"WEBHOOKS_CLAIM_SECONDS ({claim:g}) must be longer than WEBHOOKS_TIMEOUT_SECONDS ({timeout:g}).",
            hint="A claim that lapses while its attempt is still running lets another sender send the message "
            "again. Leave WEBHOOKS_CLAIM_SECONDS unset (the timeout plus 45 s) or raise it.",
            id="webhooks.E001",
        )
    ]


def _schedule_is_usable() -> list[CheckMessage]:
    schedule = list(settings.WEBHOOKS_RETRY_SCHEDULE)
    if schedule and all(delay >= 0 for delay in schedule):
        return []
    return [
        Error(
            f"WEBHOOKS_RETRY_SCHEDULE must be a non-empty list of delays of 0 seconds or more, not {schedule!r}.",
            hint="Standard Webhooks' schedule is 0,5,300,1800,7200,18000,36000,36000 (the default).",
            id="webhooks.E002",
        )
    ]


def _ca_bundle_exists() -> list[CheckMessage]:
    bundle = settings.WEBHOOKS_CA_BUNDLE
    if not bundle or os.path.isfile(bundle):
        return []
    return [
        Error(
            f"WEBHOOKS_CA_BUNDLE is {bundle!r}, which is not a file.",
            hint="Point it at a PEM file of CA certificates, or leave it empty for the default trust store.",
            id="webhooks.E003",
        )
    ]
