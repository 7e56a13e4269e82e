"""The computer's players: one bot player per level, for every game."""

from __future__ import annotations

from django.db import models


class Bot(models.Model):
    """A level of the computer and the player that plays it. Created on
    first use (``bots.services.bot_player``); the unique level makes two
    processes creating it at once end up with one."""

    player = models.OneToOneField("games.Player", on_delete=models.PROTECT, related_name="bot")
    # No choices: the levels are code (bots.levels), changed without a migration.
    level = models.PositiveSmallIntegerField(unique=True)
    strategy = models.CharField(max_length=16, help_text="The level's strategy when the bot was created.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["level"]

    def __str__(self) -> str:
        return f"level {self.level} ({self.strategy}): {self.player.name}"
