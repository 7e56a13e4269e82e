"""Staff views of ratings and rating changes: read-only, since every rating
is derived from the log of rated matches (``manage.py verify_ratings`` would
report a hand-edited one)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

from ratings.models import Rating, RatingChange
from ratings.skill import is_provisional


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnly):
    list_display = [
        "player", "pool", "rating", "deviation", "provisional", "games", "wins", "draws", "losses", "updated_at",
    ]  # fmt: skip
    list_filter = ["pool"]
    search_fields = ["player__name", "=player__id"]
    list_select_related = ["player"]
    ordering = ["pool", "-rating"]

    @admin.display(boolean=True)
    def provisional(self, rating: Rating) -> bool:
        return is_provisional(rating.deviation, settings.RATINGS_PROVISIONAL_DEVIATION)


@admin.register(RatingChange)
class RatingChangeAdmin(ReadOnly):
    list_display = ["match", "player", "seat", "pool", "score", "rating_before", "rating_after", "change", "at"]
    list_filter = ["pool", "at"]
    search_fields = ["player__name", "=match__id"]
    list_select_related = ["player", "match"]
    date_hierarchy = "at"
