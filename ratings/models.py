"""Ratings per player per pool, and the change each rated match made."""

from __future__ import annotations

from django.db import models


class Rating(models.Model):
    """A player's current rating in one pool: the Weng-Lin (openskill) ``mu``
    as ``rating`` and ``sigma`` as ``deviation``, both on the 1500 scale."""

    player = models.ForeignKey("games.Player", on_delete=models.CASCADE, related_name="ratings")
    pool = models.CharField(max_length=48, help_text='The game, and its speed for timed matches: "chess.blitz".')
    rating = models.FloatField()
    deviation = models.FloatField()
    games = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    draws = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["pool", "-rating"]
        constraints = [models.UniqueConstraint(fields=["player", "pool"], name="one_rating_per_pool")]
        indexes = [
            # A leaderboard (a pool's top N, best first) and a rank (how many
            # of the pool rate higher) both walk this index in order; the
            # deviation rides along (a covering index on PostgreSQL) so that
            # leaving out provisional ratings needs no visit to the table.
            models.Index(fields=["pool", "-rating", "-player"], include=["deviation"], name="rating_leaderboard"),
        ]

    def __str__(self) -> str:
        return f"{self.player_id} in {self.pool}: {self.rating:.0f} ± {self.deviation:.0f}"


class RatingChange(models.Model):
    """What one rated match did to one player's rating. At most one per
    player per match: the backstop of "a match changes ratings exactly once"."""

    match = models.ForeignKey("games.Match", on_delete=models.CASCADE, related_name="rating_changes")
    player = models.ForeignKey("games.Player", on_delete=models.CASCADE, related_name="rating_changes")
    seat = models.PositiveSmallIntegerField()
    pool = models.CharField(max_length=48)
    score = models.FloatField(help_text="1 for a win, 0.5 for a draw, 0 for a loss.")
    rating_before = models.FloatField()
    rating_after = models.FloatField()
    deviation_before = models.FloatField()
    deviation_after = models.FloatField()
    change = models.FloatField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["match", "player"], name="one_rating_change_per_player")]
        indexes = [models.Index(fields=["player", "-at"], name="rating_history")]

    def __str__(self) -> str:
        return f"match {self.match_id}: {self.player_id} {self.change:+.1f} in {self.pool}"
