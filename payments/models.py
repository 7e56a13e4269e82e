"""Payment gateway deliveries. The table was created by the games app
(``games_paymentevent``) and keeps its name, so moving the model here moved
no data."""

from __future__ import annotations

from django.db import models


class PaymentEvent(models.Model):
    """Every webhook delivery, stored before it is processed. Exactly one
    valid delivery per (provider, event id) is the canonical one that gets
    processed; repeats are kept too, marked as duplicates.

    The body is kept twice: ``raw_body``, the exact bytes (what the signature
    covers, whatever they hold), and ``body``, the same as text for reading
    and searching, where bytes that are not UTF-8 and NUL characters (which
    PostgreSQL text cannot hold) are shown as U+FFFD."""

    class Outcome(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        IGNORED = "ignored"
        FLAGGED = "flagged"
        DUPLICATE = "duplicate"
        INVALID_SIGNATURE = "invalid_signature"
        FAILED = "failed"
        MALFORMED = "malformed"

    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=100, blank=True)
    body = models.TextField()
    raw_body = models.BinaryField(default=b"", help_text="The exact bytes received.")
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    signature_valid = models.BooleanField()
    duplicate = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "games_paymentevent"
        ordering = ["-received_at"]
        constraints = [
            # Only genuine deliveries claim an event id: a forged one must not
            # be able to block the real event by arriving first.
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=models.Q(signature_valid=True, duplicate=False),
                name="one_canonical_delivery_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.type} ({self.outcome})"

    @property
    def raw(self) -> bytes:
        """The exact bytes received (rows stored before ``raw_body`` existed have only ``body``)."""
        return bytes(self.raw_body) if self.raw_body or not self.body else self.body.encode()
