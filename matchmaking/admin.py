"""Staff view of the queue: who waits in which pool, and what became of each seek."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from matchmaking.models import Seek


@admin.register(Seek)
class SeekAdmin(admin.ModelAdmin):
    """Read-only: seeks change only through the queue (sockets, HTTP, waves)."""

    list_display = ["id", "player", "game", "pool", "rating", "status", "ended", "sockets", "created_at", "match"]
    list_filter = ["status", "game", "ended"]
    search_fields = ["player__name", "pool"]
    list_select_related = ["player"]
    readonly_fields = [field.name for field in Seek._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Seek | None = None) -> bool:
        return False
