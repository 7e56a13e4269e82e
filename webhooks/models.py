"""Outgoing webhooks: the endpoints staff register, the messages the backend
sends them (a transactional outbox) and every attempt to deliver one.

A :class:`Message` is written in the same transaction as the event that
causes it, with one :class:`Delivery` per endpoint that wants it; senders
claim due deliveries, post them, and store each :class:`Attempt`. The message
body is stored as the exact text that is signed and sent, so every retry
sends the same bytes under the same ``webhook-id``.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class Endpoint(models.Model):
    """A URL that receives the event types it asks for."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(
        default=list, blank=True, help_text="The event types it receives; empty: every type."
    )
    enabled = models.BooleanField(default=True, db_index=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    needs_attention = models.BooleanField(
        default=False, db_index=True, help_text="Set when the endpoint was disabled automatically."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first failed attempt since its last success."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.url} ({'enabled' if self.enabled else 'disabled'})"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """Every secret that signs now: the current one and those rotated
        out less than the overlap ago (newest first)."""
        live = self.secrets.filter(EndpointSecret.signing(now or timezone.now()))
        return [secret.secret for secret in live.order_by("-created_at", "-pk")]

    def rotate_secret(self, overlap_seconds: float | None = None) -> EndpointSecret:
        """A new current secret; the old ones keep signing for the overlap
        (``WEBHOOKS_SECRET_OVERLAP_SECONDS`` unless given), so receivers can
        switch without missing a message."""
        if overlap_seconds is None:
            overlap_seconds = settings.WEBHOOKS_SECRET_OVERLAP_SECONDS
        expires = timezone.now() + timedelta(seconds=overlap_seconds)
        self.secrets.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=expires)).update(
            expires_at=expires
        )
        return EndpointSecret.objects.create(endpoint=self, secret=new_secret())


class EndpointSecret(models.Model):
    """A signing secret; ``expires_at`` is empty for the current one."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    secret = models.CharField(max_length=100, default=new_secret)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"secret {self.secret[:10]}... of endpoint {self.endpoint_id}"

    @staticmethod
    def signing(now: datetime) -> models.Q:
        """The secrets that sign at ``now``: the current one, and those whose overlap has not ended."""
        return models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)

    def signs_at(self, now: datetime) -> bool:
        """:meth:`signing` for a secret already loaded."""
        return self.expires_at is None or self.expires_at > now


class Message(models.Model):
    """One event, as sent: ``id`` is the ``webhook-id`` header, ``body`` the
    exact JSON text ``{"type", "timestamp", "data"}`` that is signed."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    body = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Delivery(models.Model):
    """One message to one endpoint: pending until an attempt succeeds, the
    schedule runs out, or the endpoint is gone."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts made in the current schedule.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=40, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["message", "endpoint"], name="one_delivery_per_endpoint")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhooks_due")]

    def __str__(self) -> str:
        return f"{self.message_id} to endpoint {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP request of a delivery and what came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="attempts")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField(db_index=True)
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The start of the response body (bounded).")
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.message_id} to endpoint {self.endpoint_id}: {self.status_code or self.error}"
