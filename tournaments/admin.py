"""Staff views of tournaments and their entries."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from games.engine.errors import GameError
from tournaments import services
from tournaments.models import Entry, Tournament


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    fields = ["player", "status", "client_reference_id", "amount_paid", "currency_paid", "note", "created_at"]
    readonly_fields = ["player", "client_reference_id", "amount_paid", "currency_paid", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Tournament)
class TournamentAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "game", "status", "entry_fee", "currency", "capacity", "starts_at", "winner"]
    list_filter = ["status", "game"]
    search_fields = ["name"]
    readonly_fields = ["status", "seq", "winner", "created_at", "started_at", "finished_at"]
    inlines = [EntryInline]
    actions = ["start"]

    @admin.action(description="Start the selected tournaments now")
    def start(self, request: HttpRequest, queryset: QuerySet[Tournament]) -> None:
        for tournament in queryset:
            try:
                started = services.start(tournament.pk)
                self.message_user(request, f"{started.name}: {started.status}")
            except GameError as refusal:
                self.message_user(request, f"{tournament.name}: {refusal.message}", messages.WARNING)


class NeedsStaffFilter(admin.SimpleListFilter):
    """Entries a person must look at: paid the wrong amount, or owed a refund."""

    title = "needs staff"
    parameter_name = "needs_staff"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "needs staff")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Entry]) -> QuerySet[Entry]:
        if self.value() == "yes":
            return queryset.filter(status__in=[Entry.Status.PAYMENT_MISMATCH, Entry.Status.REFUND_DUE])
        return queryset


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["id", "tournament", "player", "status", "amount_paid", "currency_paid", "note", "created_at"]
    list_filter = [NeedsStaffFilter, "status", "tournament"]
    search_fields = ["client_reference_id", "payment_intent", "player__name", "tournament__name"]
    list_select_related = ["tournament", "player"]
    readonly_fields = ["tournament", "player", "client_reference_id", "payment_intent", "amount_paid",
                       "currency_paid", "created_at", "confirmed_at"]  # fmt: skip
