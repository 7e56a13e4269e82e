"""The match service: the one path every transport (WebSocket, HTTP, the clock
worker) uses to create, join, act on and time matches.

Every change follows the same order: lock the match row, settle any deadline
that has passed, validate, write the new match and its log row in one
transaction, and broadcast only after commit. The row lock serialises writers
across threads and processes; the unique ``(match, seq)`` constraint is the
backstop that makes a duplicate seq impossible even if a caller forgot it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from games import monitoring, quotas, timeline
from games.broadcast import event_broadcast, event_delivery, send_to_match
from games.errors import GameError
from games.inputs import UnsafeInput, check_text
from games.models import ChatMessage, Match, MatchEvent, Player, Seat
from games.rules import InvalidOptions, UnknownGame, get_game
from games.signals import match_ended, match_status_changed
from games.timeline import Event, MatchData, format_time

__all__ = ["GameError"]

CHAT_MAX_LENGTH = 500
CHECKPOINT_EVERY = 16
ENGINE_FIELDS = ("clock", "since", "turn_started", "draw_offer", "rematch")


# --- reading ---------------------------------------------------------------


def _player_entry(seat: Seat) -> dict[str, Any]:
    return {
        "seat": seat.seat,
        "id": seat.player_id,
        "name": seat.player.name,
        "connected": seat.connections > 0,
        "left_at": format_time(seat.left_at) if seat.left_at else None,
    }


def seats_of(match_id: int) -> list[Seat]:
    return list(Seat.objects.filter(match_id=match_id).select_related("player").order_by("seat"))


def match_data(match: Match, seats: list[Seat]) -> MatchData:
    return {
        "id": match.pk,
        "game": match.game,
        "status": match.status,
        "seq": match.seq,
        "seats": match.seat_count,
        "options": match.options,
        "players": [_player_entry(seat) for seat in seats],
        "state": match.state,
        "result": match.result,
        **{field: match.engine_state[field] for field in ENGINE_FIELDS},
    }


def _event(row: MatchEvent) -> Event:
    return {"seq": row.seq, "kind": row.kind, "seat": row.seat, "move": row.move, "at": format_time(row.at)}


def get_match(match_id: int) -> Match:
    match = Match.objects.filter(pk=match_id).first()
    if match is None:
        raise GameError("not_found", f"no match {match_id}")
    return match


def load_match(match_id: int) -> MatchData:
    return match_data(get_match(match_id), seats_of(match_id))


def events_after(match_id: int, after: int) -> tuple[MatchData, list[Event]]:
    """The match and its logged events with ``seq > after``, oldest first."""
    data = load_match(match_id)
    # seq__lte: an event committed after the match was read is not shown
    # with a match that does not include it yet.
    rows = MatchEvent.objects.filter(match_id=match_id, seq__gt=after, seq__lte=data["seq"]).order_by("seq")
    return data, [_event(row) for row in rows]


def replay(match: Match, seats: list[Seat], after: int = 0) -> list[tuple[Event, MatchData]]:
    """Logged events of ``match`` with the match as it stood after each,
    computed from the log: every event, or (``after`` > 0) those from the
    nearest checkpoint at or before ``after`` on, so the cost is the events
    asked for plus at most ``CHECKPOINT_EVERY``, not the whole log."""
    players = {seat.seat: _player_entry(seat) for seat in seats}
    start = _checkpoint(match.pk, after, players) if after > 0 else None
    if start is None:
        start = timeline.initial(match.pk, match.game, match.seat_count, match.options)
    rows = MatchEvent.objects.filter(match_id=match.pk, seq__gt=start["seq"], seq__lte=match.seq).order_by("seq")
    return list(timeline.replay(start, (_event(row) for row in rows), players))


def _checkpoint(match_id: int, at_most: int, players: dict[int, dict[str, Any]]) -> MatchData | None:
    stored = (
        MatchEvent.objects.filter(match_id=match_id, seq__lte=at_most, checkpoint__isnull=False)
        .order_by("-seq")
        .values_list("checkpoint", flat=True)
        .first()
    )
    return None if stored is None else _from_checkpoint(stored, players)


def _as_checkpoint(data: MatchData) -> MatchData:
    """Presence is not history: a checkpoint keeps only who sits where."""
    return {**data, "players": [player["seat"] for player in data["players"]]}


def _from_checkpoint(stored: MatchData, players: dict[int, dict[str, Any]]) -> MatchData:
    return {**stored, "players": [players[seat] for seat in stored["players"]]}


def replay_differences(match: Match) -> list[str]:
    """The fields in which the stored match differs from the replay of its
    log, and the checkpoints that differ from it (an empty list is the
    invariant every match must keep)."""
    seats = seats_of(match.pk)
    stored = match_data(match, seats)
    steps = replay(match, seats)
    if not steps:
        return ["seq"]
    replayed = steps[-1][1]
    differences = sorted(key for key in stored if stored[key] != replayed[key])
    checkpoints = dict(
        MatchEvent.objects.filter(match_id=match.pk, checkpoint__isnull=False).values_list("seq", "checkpoint")
    )
    for event, data in steps:
        if event["seq"] in checkpoints and checkpoints[event["seq"]] != _as_checkpoint(data):
            differences.append(f"checkpoint {event['seq']}")
    return differences


def replay_since(match_id: int, after: int, limit: int) -> tuple[MatchData, list[tuple[Event, MatchData]] | None]:
    """The events after ``after``, each with the match as it stood then; ``None``
    instead of the list when a snapshot is the better answer (nothing missed,
    too much missed, or ``after`` is nonsense). Costs the events missed (see
    :func:`replay`); the usual case, one missed event, is the stored match itself."""
    match = get_match(match_id)
    seats = seats_of(match_id)
    current = match_data(match, seats)
    if not 0 <= after < match.seq or match.seq - after > limit:
        return current, None
    if after == match.seq - 1:
        return current, [(_event(MatchEvent.objects.get(match_id=match_id, seq=match.seq)), current)]
    return current, [(event, data) for event, data in replay(match, seats, after) if event["seq"] > after]


# --- writing ---------------------------------------------------------------


def lock_match(match_id: int) -> Match:
    match = Match.objects.select_for_update().filter(pk=match_id).first()
    if match is None:
        raise GameError("not_found", f"no match {match_id}")
    return match


def _store(match: Match, data: MatchData, now: datetime) -> None:
    if data["status"] == timeline.ACTIVE and match.started_at is None:
        match.started_at = now
    if data["status"] == timeline.FINISHED and match.finished_at is None:
        match.finished_at = now
    match.seq, match.state, match.status, match.result = data["seq"], data["state"], data["status"], data["result"]
    match.engine_state = {field: data[field] for field in ENGINE_FIELDS}
    match.deadline_at = timeline.next_deadline(data)
    match.save()


def _append(
    match: Match,
    before: MatchData,
    kind: str,
    seat: int | None,
    player: Player | None,
    now: datetime,
    move: Any = None,
    joined: dict[str, Any] | None = None,
) -> tuple[Event, MatchData]:
    """Validate and log one event, store the match after it, and schedule the
    broadcast. Must run inside the transaction that holds the row lock."""
    event = {"seq": before["seq"] + 1, "kind": kind, "seat": seat, "move": move, "at": format_time(now)}
    after = timeline.advance(before, event, joined)
    checkpoint = _as_checkpoint(after) if event["seq"] % CHECKPOINT_EVERY == 0 else None
    MatchEvent.objects.create(
        match=match, seq=event["seq"], kind=kind, seat=seat, player=player, move=move, at=now, checkpoint=checkpoint
    )
    _store(match, after, now)
    transaction.on_commit(lambda: send_to_match(match.pk, event_broadcast(event, after)), robust=True)
    if before["status"] != after["status"] or before["seq"] == 0:
        match_status_changed.send(sender=Match, match=match)
        if after["status"] in (timeline.FINISHED, timeline.ABORTED):
            match_ended.send(sender=Match, match=match, data=after)
    return event, after


def _settle_overdue(match: Match, before: MatchData, now: datetime) -> tuple[MatchData, dict[str, Any] | None]:
    """Log the timeout or abandonment the match owes at ``now``, if any, so a
    move and a flag arriving together resolve to exactly one outcome. Returns
    the match after it and the event's broadcast (``None`` if nothing was due)."""
    due = timeline.overdue(before, now)
    if due is None:
        return before, None
    kind, seats = due
    event, after = _append(match, before, kind, seats[0] if len(seats) == 1 else None, None, now, {"seats": seats})
    return after, event_delivery(event, after)


def _seat_player(match: Match, before: MatchData, player: Player, seat_number: int, now: datetime) -> MatchData:
    seat = Seat.objects.create(match=match, seat=seat_number, player=player)
    seat.player = player
    _, after = _append(match, before, "join", seat_number, player, now, joined=_player_entry(seat))
    return after


def _new_match(
    game_slug: str, options: dict[str, Any], seat_count: int, creator: Player, **fields: Any
) -> tuple[Match, MatchData]:
    game = get_game(game_slug)
    match = Match.objects.create(
        game=game.slug,
        seat_count=seat_count,
        options=options,
        created_by=creator,
        state=game.initial_state(seat_count, options),
        **fields,
    )
    return match, timeline.initial(match.pk, game.slug, seat_count, options)


def start_match(players: list[Player], game_slug: str, options: dict[str, Any], **fields: Any) -> MatchData:
    """A match with every seat taken at once, in order (tournaments, rematches).
    Must run inside a transaction."""
    match, data = _new_match(game_slug, options, len(players), players[0], **fields)
    now = timezone.now()
    for seat, player in enumerate(players):
        data = _seat_player(match, data, player, seat, now)
    return data


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
        options = timeline.validate_options(game.slug, options or {})
    except InvalidOptions as problem:
        raise GameError("invalid_options", str(problem)) from None
    with transaction.atomic():
        _check_open_matches(player)
        match, data = _new_match(game.slug, options, seat_count, player)
        return _seat_player(match, data, player, 0, timezone.now())


def _check_open_matches(player: Player) -> None:
    """At most ``GAMES_MAX_OPEN_MATCHES_PER_PLAYER`` matches of a player wait
    for opponents at once (the lobby list is for everyone). The player's row
    lock makes two creations at once count each other."""
    Player.objects.select_for_update().filter(pk=player.pk).first()
    waiting = Match.objects.filter(created_by=player, status=Match.Status.WAITING).count()
    if waiting >= settings.GAMES_MAX_OPEN_MATCHES_PER_PLAYER:
        monitoring.RATE_LIMITED.labels(limit="open_matches").inc()
        raise GameError(
            "too_many_open_matches",
            f"you already have {waiting} matches waiting for opponents; wait until one of them fills",
        )


def join_match(match_id: int, player: Player) -> MatchData:
    """Seat ``player`` at the next free seat; joining again changes nothing."""
    with transaction.atomic():
        match = lock_match(match_id)
        before = match_data(match, seats_of(match_id))
        if timeline.seat_of(before, player.pk) is not None:
            return before
        if len(before["players"]) >= match.seat_count:
            raise GameError("match_full", "every seat of this match is taken")
        if match.status != Match.Status.WAITING:
            raise GameError("match_not_active", f"the match is {match.status}")
        free = min(set(range(match.seat_count)) - {p["seat"] for p in before["players"]})
        return _seat_player(match, before, player, free, timezone.now())


def act(
    match_id: int, player: Player | None, kind: str, move: Any = None, expected_seq: int | None = None
) -> dict[str, Any]:
    """Apply one player action (``move``, ``resign``, ``offer_draw``,
    ``accept_draw``, ``rematch``); returns the event's broadcast message.

    ``expected_seq`` is the last seq the client saw: an action taken against
    an older (or unknown) version of the match is refused as ``stale_seq``.
    A deadline that has passed is settled first and committed even when the
    action is then refused; the refusal then carries that event's broadcast
    as ``settled``, so the caller can show it before the error.
    """
    if kind not in timeline.PLAYER_ACTIONS:
        raise GameError("bad_message", f"unknown action {kind!r}")
    refusal: GameError | None = None
    with transaction.atomic():
        match = lock_match(match_id)
        now = timezone.now()  # read under the lock, so logged times never go backwards
        before, settled = _settle_overdue(match, match_data(match, seats_of(match_id)), now)
        try:
            event, after = _apply_action(match, before, player, kind, move, expected_seq, now)
        except GameError as error:
            refusal = error
    if refusal is not None:
        refusal.settled = settled
        monitoring.MOVES.labels(outcome=refusal.code).inc()
        raise refusal
    monitoring.MOVES.labels(outcome="accepted").inc()
    return event_delivery(event, after)


def _apply_action(
    match: Match,
    before: MatchData,
    player: Player | None,
    kind: str,
    move: Any,
    expected_seq: int | None,
    now: datetime,
) -> tuple[Event, MatchData]:
    """Checks and the log write of :func:`act`. Every check runs before the
    first write, so a refusal leaves the transaction clean."""
    seat = timeline.seat_of(before, player.pk if player else None)
    if seat is None:
        raise GameError("not_a_player", "only the match's players may do that")
    if expected_seq is not None and before["status"] == timeline.ACTIVE and expected_seq != before["seq"]:
        raise GameError("stale_seq", f"the match is at seq {before['seq']}, you acted at seq {expected_seq}")
    if kind == "rematch":
        return _request_rematch(match, before, player, seat, now)
    return _append(match, before, kind, seat, player, now, move=move)


def _request_rematch(
    match: Match, before: MatchData, player: Player, seat: int, now: datetime
) -> tuple[Event, MatchData]:
    """Log the request; the last player's request also creates the new
    match, seats rotated by one, and names it in the event."""
    asked = {*before["rematch"]["seats"], seat}
    if len(asked) < before["seats"] or seat in before["rematch"]["seats"] or before["status"] != timeline.FINISHED:
        return _append(match, before, "rematch", seat, player, now)  # advance() refuses what is not allowed
    seated = {p["seat"]: p["id"] for p in before["players"]}
    players = Player.objects.in_bulk(seated.values())
    rotated = [players[seated[(new_seat - 1) % before["seats"]]] for new_seat in range(before["seats"])]
    data = start_match(rotated, match.game, match.options)
    rematch = {"type": "match.rematch", "match": data}
    transaction.on_commit(lambda: send_to_match(match.pk, rematch), robust=True)
    return _append(match, before, "rematch", seat, player, now, move={"match": data["id"]})


def abort_match(match_id: int, reason: str) -> dict[str, Any]:
    """Stop a waiting or active match (staff); logged like any other event."""
    with transaction.atomic():
        match = lock_match(match_id)
        event, after = _append(match, match_data(match, seats_of(match_id)), "abort", None, None, timezone.now(),
                               move={"reason": reason})  # fmt: skip
    return event_delivery(event, after)


def apply_move(match_id: int, player: Player | None, move: Any, expected_seq: int | None = None) -> dict[str, Any]:
    return act(match_id, player, "move", move, expected_seq)


def settle_deadline(match_id: int) -> bool:
    """Apply the timeout or abandonment a match owes now; for the clock
    worker. Returns whether anything happened."""
    with transaction.atomic():
        match = lock_match(match_id)
        before = match_data(match, seats_of(match_id))
        _, settled = _settle_overdue(match, before, timezone.now())
        deadline = timeline.next_deadline(before)
        if settled is None and match.deadline_at != deadline:
            match.deadline_at = deadline
            match.save(update_fields=["deadline_at"])
    return settled is not None


def due_matches(now: datetime, limit: int = 100) -> list[int]:
    return list(
        Match.objects.filter(status=Match.Status.ACTIVE, deadline_at__lte=now)
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- chat ------------------------------------------------------------------


def post_chat(match_id: int, player: Player | None, text: Any) -> None:
    """Store a chat line (for moderation) and send it to everyone watching."""
    if player is None:
        raise GameError("not_authenticated", "log in to chat")
    if not isinstance(text, str) or not text.strip():
        raise GameError("bad_message", "chat text must be a non-empty string")
    if len(text) > CHAT_MAX_LENGTH:
        raise GameError("bad_message", f"chat text is limited to {CHAT_MAX_LENGTH} characters")
    try:
        check_text(text, "chat text")
    except UnsafeInput as unsafe:
        raise GameError("bad_message", str(unsafe)) from None
    quotas.check_shared("player_chat", player.pk, "chat lines")
    with transaction.atomic():
        match = get_match(match_id)
        seat = Seat.objects.filter(match_id=match_id, player=player).values_list("seat", flat=True).first()
        line = ChatMessage.objects.create(match=match, player=player, seat=seat, text=text.strip())
        message = {
            "type": "match.chat",
            "seq": match.seq,
            "seat": seat,
            "name": player.name,
            "text": line.text,
            "at": format_time(line.at),
        }
        transaction.on_commit(lambda: send_to_match(match_id, message), robust=True)
