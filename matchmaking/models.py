"""Seeks: a player waiting in a pool for an opponent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

POOL_LENGTH = 500  # a pool key: the game and its options, as canonical JSON


class Seek(models.Model):
    """A player asking for a match of ``game`` with ``options``. It waits in
    its ``pool`` (the game and the validated options: two seeks are paired
    only within one pool) until a wave pairs it, the player withdraws it, or
    it lapses.

    How it is held: by the player's queue sockets (``sockets`` counts them;
    closing the last one withdraws it) and by time (``held_until``, pushed
    forward by the servers that hold its sockets and by every HTTP poll). A
    seek whose ``held_until`` has passed belongs to a dead process or a
    caller that stopped polling, and the next wave withdraws it.
    """

    class Status(models.TextChoices):
        WAITING = "waiting"
        PAIRED = "paired"
        WITHDRAWN = "withdrawn"

    class Ended(models.TextChoices):
        """Why a seek stopped waiting without a match."""

        CANCELLED = "cancelled"
        CLOSED = "closed"
        EXPIRED = "expired"

    player = models.ForeignKey("games.Player", on_delete=models.CASCADE, related_name="seeks")
    game = models.CharField(max_length=32)
    options = models.JSONField(default=dict, blank=True, help_text="The match options, validated.")
    pool = models.CharField(max_length=POOL_LENGTH, help_text="The game and its options: seeks pair within one pool.")
    rating_pool = models.CharField(max_length=48, help_text='The rating pool, e.g. "chess.blitz".')
    rating = models.FloatField(help_text="The player's rating in rating_pool when they sought.")
    bot_after = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds after which a computer opponent is acceptable (empty: never)."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    ended = models.CharField(max_length=16, choices=Ended.choices, blank=True, default="")
    sockets = models.PositiveIntegerField(default=0, help_text="Queue sockets holding it.")
    held_until = models.DateTimeField(help_text="When it lapses unless a socket's server or an HTTP poll holds it.")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    match = models.ForeignKey("games.Match", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    seat = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The player's seat in the match.")
    opponent = models.ForeignKey("games.Player", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "pool"], condition=models.Q(status="waiting"), name="one_waiting_seek_per_pool"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "pool"], name="seek_waiting_by_pool"),
            # A player's last opponent: their latest paired seek.
            models.Index(fields=["player", "status", "-ended_at"], name="seek_last_opponent"),
        ]

    def __str__(self) -> str:
        return f"seek {self.pk}: {self.player_id} in {self.pool} ({self.status})"
