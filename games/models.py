"""Persistence: players, matches, their seats and the append-only event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Player(models.Model):
    """A person or bot at the table; a Django user underneath so sessions and
    the admin work. Only a hash of the API token is stored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="player")
    name = models.CharField(max_length=40)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


class Match(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting"
        ACTIVE = "active"
        FINISHED = "finished"
        ABORTED = "aborted"

    game = models.CharField(max_length=32, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING, db_index=True)
    seat_count = models.PositiveSmallIntegerField()
    options = models.JSONField(default=dict, blank=True)
    state = models.JSONField()
    seq = models.PositiveIntegerField(default=0, help_text="Sequence number of the last logged event.")
    result = models.JSONField(null=True, blank=True)
    engine_state = models.JSONField(
        default=dict, blank=True, help_text="Clocks, turn start times, draw offer and rematch requests."
    )
    deadline_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the clock worker must act unless someone moves first."
    )
    created_by = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pairing = models.ForeignKey(
        "Pairing", null=True, blank=True, on_delete=models.SET_NULL, related_name="matches",
        help_text="The tournament bracket slot this match decides.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "matches"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.game} #{self.pk} ({self.status})"


class Seat(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="seats")
    seat = models.PositiveSmallIntegerField()
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="seats")
    joined_at = models.DateTimeField(auto_now_add=True)
    connections = models.PositiveIntegerField(default=0, help_text="Open WebSockets of this player on this match.")
    left_at = models.DateTimeField(null=True, blank=True, help_text="When the player's last socket closed.")

    class Meta:
        ordering = ["seat"]
        constraints = [
            models.UniqueConstraint(fields=["match", "seat"], name="unique_seat_per_match"),
            models.UniqueConstraint(fields=["match", "player"], name="one_seat_per_player"),
        ]

    def __str__(self) -> str:
        return f"seat {self.seat}: {self.player.name}"


class MatchEvent(models.Model):
    """One accepted event of a match, in order. Never updated: the match's
    state is always the replay of these rows (see ``games.timeline``)."""

    class Kind(models.TextChoices):
        JOIN = "join"
        MOVE = "move"
        RESIGN = "resign"
        OFFER_DRAW = "offer_draw"
        ACCEPT_DRAW = "accept_draw"
        REMATCH = "rematch"
        TIMEOUT = "timeout"
        ABANDON = "abandon"
        ABORT = "abort"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    seat = models.PositiveSmallIntegerField(null=True, blank=True)
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    move = models.JSONField(null=True, blank=True)
    at = models.DateTimeField()
    # Every CHECKPOINT_EVERY events, the match as it stood after this one
    # (players by seat only): a resync or replay folds from the nearest
    # checkpoint, so it costs the events it covers, not the whole log.
    checkpoint = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["match", "seq"]
        constraints = [models.UniqueConstraint(fields=["match", "seq"], name="unique_event_seq_per_match")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} seat {self.seat}"


class Connection(models.Model):
    """One open WebSocket of a seated player. Each server process refreshes
    ``seen_at`` for its own sockets; rows of a process that died stop being
    refreshed and are swept, so a crash cannot leave a player "connected"
    forever (which would also stop their abandonment clock)."""

    channel_name = models.CharField(max_length=200, unique=True)
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="connections")
    seat = models.PositiveSmallIntegerField()
    server = models.CharField(max_length=100, db_index=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"match {self.match_id} seat {self.seat} on {self.server}"


class ChatMessage(models.Model):
    """A chat line of a match, kept for moderation."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="chat")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="chat_messages")
    seat = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.CharField(max_length=500)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    hidden = models.BooleanField(default=False, help_text="Hidden by a moderator.")

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.player.name}: {self.text[:40]}"


class Ticket(models.Model):
    """A short-lived, single-use credential for opening a WebSocket, so the
    long-lived token never appears in a URL (and in proxy logs)."""

    key_hash = models.CharField(max_length=64, unique=True)
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="tickets")
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)


class Tournament(models.Model):
    class Status(models.TextChoices):
        REGISTRATION = "registration"
        RUNNING = "running"
        FINISHED = "finished"
        CANCELLED = "cancelled"

    name = models.CharField(max_length=100)
    game = models.CharField(max_length=32)
    options = models.JSONField(default=dict, blank=True)
    entry_fee = models.PositiveIntegerField(default=0, help_text="In minor units (cents); 0 is free.")
    currency = models.CharField(max_length=3, default="eur")
    capacity = models.PositiveIntegerField()
    starts_at = models.DateTimeField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REGISTRATION, db_index=True)
    seq = models.PositiveIntegerField(default=0, help_text="Version, raised by every change pushed to watchers.")
    winner = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Entry(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment"
        CONFIRMED = "confirmed"
        PAYMENT_MISMATCH = "payment_mismatch"
        REFUND_DUE = "refund_due"
        REFUNDED = "refunded"

    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="entries")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="entries")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    client_reference_id = models.CharField(max_length=64, unique=True)
    payment_intent = models.CharField(max_length=100, null=True, blank=True, db_index=True)
    amount_paid = models.PositiveIntegerField(null=True, blank=True)
    currency_paid = models.CharField(max_length=3, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why staff should look at this entry.")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "entries"
        constraints = [models.UniqueConstraint(fields=["tournament", "player"], name="one_entry_per_player")]

    def __str__(self) -> str:
        return f"{self.player.name} in {self.tournament.name} ({self.status})"


class Pairing(models.Model):
    """One slot of a single-elimination bracket: two entries (or a bye), the
    matches played to decide it, and the winner who moves on."""

    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="pairings")
    round = models.PositiveSmallIntegerField()
    slot = models.PositiveSmallIntegerField()
    entry_a = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entry_b = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    winner = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["round", "slot"]
        constraints = [models.UniqueConstraint(fields=["tournament", "round", "slot"], name="one_pairing_per_slot")]

    def __str__(self) -> str:
        return f"round {self.round} slot {self.slot}"


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
