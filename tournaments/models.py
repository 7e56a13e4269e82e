"""Tournaments, their entries and their single-elimination bracket.

These tables were created by the games app (``games_tournament``,
``games_entry``, ``games_pairing``) and keep their names, so moving the models
here moved no data. Which matches decide a bracket slot is recorded here
(:class:`BracketMatch`), not on ``games.Match``: the engine knows nothing of
tournaments.
"""

from __future__ import annotations

from django.db import models


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
    winner = models.ForeignKey("games.Player", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "games_tournament"
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
    player = models.ForeignKey("games.Player", on_delete=models.PROTECT, related_name="entries")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    client_reference_id = models.CharField(max_length=64, unique=True)
    payment_intent = models.CharField(max_length=100, null=True, blank=True, db_index=True)
    amount_paid = models.PositiveIntegerField(null=True, blank=True)
    currency_paid = models.CharField(max_length=3, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why staff should look at this entry.")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "games_entry"
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
        db_table = "games_pairing"
        ordering = ["round", "slot"]
        constraints = [models.UniqueConstraint(fields=["tournament", "round", "slot"], name="one_pairing_per_slot")]

    def __str__(self) -> str:
        return f"round {self.round} slot {self.slot}"


class BracketMatch(models.Model):
    """A match played to decide a pairing: the first one, then a tiebreak
    after each draw or abort. Deleting the match or the pairing deletes only
    this link."""

    match = models.OneToOneField("games.Match", primary_key=True, on_delete=models.CASCADE, related_name="bracket")
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="bracket_matches")

    class Meta:
        ordering = ["pk"]  # the match id ("match" would follow Match.Meta.ordering)

    def __str__(self) -> str:
        return f"match {self.match_id} for {self.pairing}"
