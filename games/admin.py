"""Staff views of players, matches and their move logs."""

from django.contrib import admin, messages

from games import services
from games.engine.match import turn
from games.models import ChatMessage, Match, MatchEvent, Player, Seat, Ticket


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "user", "created_at"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["created_at"]
    list_select_related = ["user"]


class SeatInline(admin.TabularInline):
    """Read-only: seats change only through joins, which are logged."""

    model = Seat
    extra = 0
    fields = ["seat", "player", "connections", "left_at", "joined_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class MatchEventInline(admin.TabularInline):
    """The move log, read-only: it is append-only by design."""

    model = MatchEvent
    extra = 0
    fields = ["seq", "kind", "seat", "player", "move", "at"]
    readonly_fields = fields
    can_delete = False
    ordering = ["seq"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["id", "game", "status", "players", "seq", "winner", "created_at", "finished_at"]
    list_filter = ["game", "status", "created_at"]
    search_fields = ["=id", "seats__player__name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "seq",
        "state",
        "result",
        "whose_turn",
        "engine_state",
        "deadline_at",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    ]
    # Everything is read-only: a match changes only through its log (the
    # abort action below goes through the service like any move).
    readonly_fields = ["game", "status", "seat_count", "options", *readonly_fields]
    fields = readonly_fields
    inlines = [SeatInline, MatchEventInline]
    actions = ["abort"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Abort the selected matches (no result)")
    def abort(self, request, queryset) -> None:
        aborted = 0
        for match_id in queryset.filter(status__in=["waiting", "active"]).values_list("pk", flat=True):
            try:
                services.abort_match(match_id, reason=f"aborted by {request.user.get_username()}")
                aborted += 1
            except services.GameError as refusal:
                self.message_user(request, f"match {match_id}: {refusal.message}", messages.WARNING)
        self.message_user(request, f"Aborted {aborted} match(es).")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("seats__player")

    @admin.display(description="players")
    def players(self, match: Match) -> str:
        return ", ".join(seat.player.name for seat in match.seats.all())

    @admin.display(description="winner")
    def winner(self, match: Match) -> str:
        if not match.result:
            return "-"
        winner = match.result.get("winner")
        return "draw" if winner is None else f"seat {winner}"

    @admin.display(description="turn")
    def whose_turn(self, match: Match) -> str:
        data = {"status": match.status, "game": match.game, "state": match.state}
        return ", ".join(f"seat {seat}" for seat in turn(data)) or "-"


@admin.register(MatchEvent)
class MatchEventAdmin(admin.ModelAdmin):
    list_display = ["match", "seq", "kind", "seat", "player", "move", "at"]
    list_filter = ["kind", "match__game"]
    search_fields = ["=match__id", "player__name"]
    list_select_related = ["match", "player"]
    readonly_fields = ["match", "seq", "kind", "seat", "player", "move", "at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "player", "expires_at", "used_at"]
    list_select_related = ["player"]
    readonly_fields = ["key_hash", "player", "expires_at", "used_at"]


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    """Chat moderation: search by text or player, hide a line."""

    list_display = ["at", "match", "player", "seat", "text", "hidden"]
    list_filter = ["hidden", "at"]
    list_editable = ["hidden"]
    search_fields = ["text", "player__name", "=match__id"]
    list_select_related = ["match", "player"]
    readonly_fields = ["match", "player", "seat", "text", "at"]
    actions = ["hide"]

    @admin.action(description="Hide the selected lines")
    def hide(self, request, queryset) -> None:
        queryset.update(hidden=True)
