"""Persistence: players, matches, their seats and the append-only event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from games.engine.match import EventKind
from games.engine.match import Status as MatchStatus


class Player(models.Model):
    """A person or bot at the table; a Django user underneath so sessions and
    the admin work. Only a hash of the API token is stored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="player")
    name = models.CharField(max_length=40)
    is_bot = models.BooleanField(
        default=False, help_text="A computer player: the bots app, or an external program that declared itself one."
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


class Match(models.Model):
    # The engine's statuses (games.engine.match), as Django choices.
    Status = models.TextChoices("Status", [(status.name, status.value) for status in MatchStatus])

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
    state is always the replay of these rows (see ``games.engine.fold``)."""

    Kind = models.TextChoices("Kind", [(kind.name, kind.value) for kind in EventKind])

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


class MatchLease(models.Model):
    """Who runs a live real-time match's tick loop: one process at a time,
    by lease. The owner renews it while it lives; once ``expires_at`` has
    passed, any server process or the worker may take the match over, which
    raises ``epoch``. Every write of the loop checks the epoch under the
    match's row lock, so an owner that lost its lease (paused, partitioned)
    cannot write any more (see ``games.realtime``)."""

    match = models.OneToOneField(Match, primary_key=True, on_delete=models.CASCADE, related_name="lease")
    owner = models.CharField(
        max_length=80, blank=True, help_text="host:pid:token of the owning process; empty: none yet."
    )
    channel = models.CharField(max_length=120, blank=True, help_text="The owner's channel, where inputs go.")
    epoch = models.PositiveIntegerField(default=0, help_text="Raised by every takeover.")
    expires_at = models.DateTimeField(db_index=True)
    tick = models.PositiveIntegerField(default=0, help_text="The last tick the owner ran, as of its last renewal.")
    started_at = models.DateTimeField(help_text="When tick 0 was: ticks are scheduled from it.")

    def __str__(self) -> str:
        return f"match {self.match_id}: {self.owner or 'nobody'} (epoch {self.epoch}, tick {self.tick})"
