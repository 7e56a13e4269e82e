"""The match service: the one path every transport (WebSocket, HTTP, workers)
uses to create, join and move.

Every change follows the same order: lock the match row, validate, write the
new match and its log row in one transaction, and broadcast only after commit.
The row lock serialises writers across threads and processes; the unique
``(match, seq)`` constraint is the backstop that makes a duplicate seq
impossible even if a caller forgot the lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from games import timeline
from games.broadcast import event_broadcast, send_to_match
from games.models import Match, MatchEvent, Player, Seat
from games.rules import IllegalMove, InvalidOptions, UnknownGame, get_game
from games.timeline import Event, MatchData


class GameError(Exception):
    """A refused request, with the protocol's error ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- reading ---------------------------------------------------------------


def _player_entry(seat: Seat) -> dict[str, Any]:
    return {"seat": seat.seat, "id": seat.player_id, "name": seat.player.name, "connected": seat.connections > 0}


def _seats(match_id: int) -> list[Seat]:
    return list(Seat.objects.filter(match_id=match_id).select_related("player").order_by("seat"))


def _data(match: Match, seats: list[Seat]) -> MatchData:
    return {
        "id": match.pk,
        "game": match.game,
        "status": match.status,
        "seq": match.seq,
        "seats": match.seat_count,
        "players": [_player_entry(seat) for seat in seats],
        "state": match.state,
        "result": match.result,
    }


def _event(row: MatchEvent) -> Event:
    return {"seq": row.seq, "kind": row.kind, "seat": row.seat, "move": row.move, "at": iso(row.at)}


def load_match(match_id: int) -> MatchData:
    match = Match.objects.filter(pk=match_id).first()
    if match is None:
        raise GameError("not_found", f"no match {match_id}")
    return _data(match, _seats(match_id))


def events_after(match_id: int, after: int) -> tuple[MatchData, list[Event]]:
    """The match and its logged events with ``seq > after``, oldest first."""
    data = load_match(match_id)
    rows = MatchEvent.objects.filter(match_id=match_id, seq__gt=after).order_by("seq")
    return data, [_event(row) for row in rows]


def replay_since(match_id: int, after: int, limit: int) -> tuple[MatchData, list[tuple[Event, MatchData]] | None]:
    """The events after ``after``, each with the match as it stood then, by
    replaying the log; ``None`` instead of the list when a snapshot is the
    better answer (nothing missed, too much missed, or ``after`` is nonsense).
    """
    match = Match.objects.filter(pk=match_id).first()
    if match is None:
        raise GameError("not_found", f"no match {match_id}")
    seats = _seats(match_id)
    current = _data(match, seats)
    if not 0 <= after < match.seq or match.seq - after > limit:
        return current, None
    rows = MatchEvent.objects.filter(match_id=match_id).order_by("seq")
    start = timeline.initial(match.pk, match.game, match.seat_count, match.options)
    players = {seat.seat: _player_entry(seat) for seat in seats}
    steps = timeline.replay(start, (_event(row) for row in rows), players)
    return current, [(event, data) for event, data in steps if event["seq"] > after]


# --- writing ---------------------------------------------------------------


def _lock(match_id: int) -> Match:
    match = Match.objects.select_for_update().filter(pk=match_id).first()
    if match is None:
        raise GameError("not_found", f"no match {match_id}")
    return match


def _append(
    match: Match,
    before: MatchData,
    kind: str,
    seat: int | None,
    player: Player | None,
    move: Any = None,
    joined: dict[str, Any] | None = None,
) -> tuple[Event, MatchData]:
    """Log one event, store the match after it, and schedule the broadcast.
    Must run inside the transaction that holds the match's row lock."""
    now = timezone.now()
    event = {"seq": before["seq"] + 1, "kind": kind, "seat": seat, "move": move, "at": iso(now)}
    try:
        after = timeline.advance(before, event, joined)
    except IllegalMove as refusal:
        raise GameError("illegal_move", refusal.reason) from None
    MatchEvent.objects.create(match=match, seq=event["seq"], kind=kind, seat=seat, player=player, move=move, at=now)
    match.seq, match.state, match.status, match.result = after["seq"], after["state"], after["status"], after["result"]
    if after["status"] == timeline.ACTIVE and match.started_at is None:
        match.started_at = now
    if after["status"] == timeline.FINISHED:
        match.finished_at = now
    match.save(update_fields=["seq", "state", "status", "result", "started_at", "finished_at", "updated_at"])
    transaction.on_commit(lambda: send_to_match(match.pk, event_broadcast(event, after)), robust=True)
    return event, after


def _seat_player(match: Match, before: MatchData, player: Player) -> MatchData:
    taken = {p["seat"] for p in before["players"]}
    seat_number = min(set(range(match.seat_count)) - taken)
    seat = Seat.objects.create(match=match, seat=seat_number, player=player)
    seat.player = player
    _, after = _append(match, before, "join", seat_number, player, joined=_player_entry(seat))
    return after


def create_match(
    player: Player, game_slug: str, options: dict[str, Any] | None = None, seats: int | None = None
) -> MatchData:
    try:
        game = get_game(game_slug)
    except UnknownGame:
        raise GameError("unknown_game", f"unknown game {game_slug!r}") from None
    seat_count = game.min_players if seats is None else seats
    if not game.min_players <= seat_count <= game.max_players:
        raise GameError("invalid_options", f"{game.slug} is played by {game.min_players} to {game.max_players} players")
    try:
        options = game.validate_options(options or {})
    except InvalidOptions as problem:
        raise GameError("invalid_options", str(problem)) from None
    with transaction.atomic():
        match = Match.objects.create(
            game=game.slug,
            seat_count=seat_count,
            options=options,
            created_by=player,
            state=game.initial_state(seat_count, options),
        )
        return _seat_player(match, _data(match, []), player)


def join_match(match_id: int, player: Player) -> MatchData:
    """Seat ``player`` at the next free seat; joining again changes nothing."""
    with transaction.atomic():
        match = _lock(match_id)
        before = _data(match, _seats(match_id))
        if timeline.seat_of(before, player.pk) is not None:
            return before
        if len(before["players"]) >= match.seat_count:
            raise GameError("match_full", "every seat of this match is taken")
        if match.status != Match.Status.WAITING:
            raise GameError("match_not_active", f"the match is {match.status}")
        return _seat_player(match, before, player)


def apply_move(match_id: int, player: Player | None, move: Any, expected_seq: int | None = None) -> dict[str, Any]:
    """Validate and apply one move; returns the event's broadcast message.

    ``expected_seq`` is the last seq the client saw: a move made against an
    older (or unknown) version of the match is refused as ``stale_seq``.
    """
    with transaction.atomic():
        match = _lock(match_id)
        before = _data(match, _seats(match_id))
        seat = timeline.seat_of(before, player.pk if player else None)
        if seat is None:
            raise GameError("not_a_player", "only the match's players may move")
        if match.status != Match.Status.ACTIVE:
            raise GameError("match_not_active", f"the match is {match.status}")
        if expected_seq is not None and expected_seq != match.seq:
            raise GameError("stale_seq", f"the match is at seq {match.seq}, your move was made at seq {expected_seq}")
        if seat not in timeline.turn(before):
            raise GameError("not_your_turn", "it is not your turn")
        event, after = _append(match, before, "move", seat, player, move=move)
    return event_broadcast(event, after)


# --- presence --------------------------------------------------------------


def _presence(match_id: int, seq: int, seat: int, connected: bool) -> None:
    message = {"type": "match.presence", "seq": seq, "seat": seat, "connected": connected}
    transaction.on_commit(lambda: send_to_match(match_id, message), robust=True)


def socket_opened(match_id: int, player: Player | None) -> tuple[MatchData, int | None]:
    """Count a new socket of ``player`` on the match; returns the match and
    the player's seat (``None`` for spectators). Announces the player's
    presence when this is their first socket."""
    with transaction.atomic():
        match = Match.objects.filter(pk=match_id).first()
        if match is None:
            raise GameError("not_found", f"no match {match_id}")
        if player is not None:
            Seat.objects.filter(match_id=match_id, player=player).update(connections=F("connections") + 1)
        seats = _seats(match_id)
        data = _data(match, seats)
        seat = timeline.seat_of(data, player.pk if player else None)
        if seat is not None and next(s for s in seats if s.seat == seat).connections == 1:
            _presence(match_id, data["seq"], seat, True)
    return data, seat


def socket_closed(match_id: int, player: Player, seat: int) -> None:
    with transaction.atomic():
        Seat.objects.filter(match_id=match_id, seat=seat, connections__gt=0).update(connections=F("connections") - 1)
        row = Seat.objects.filter(match_id=match_id, seat=seat).values("connections", "match__seq").first()
        if row is not None and row["connections"] == 0:
            _presence(match_id, row["match__seq"], seat, False)
