"""The computer's levels in the admin (read-only: they are made on first use)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from bots.models import Bot


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = ("level", "strategy", "player", "created_at")
    readonly_fields = ("level", "strategy", "player", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Bot | None = None) -> bool:
        return False
