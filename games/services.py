"""The match service: the one path every transport (WebSocket, HTTP, the clock
worker, the admin) uses to create, join, act on and time matches.

Every change follows the same order: lock the match row, settle any deadline
that has passed, validate, write the new match and its log row in one
transaction, and broadcast only after commit. The row lock serialises writers
across threads and processes; the unique ``(match, seq)`` constraint is the
backstop that makes a duplicate seq impossible even if a caller forgot it.

Services return typed outcomes (:class:`Current`, :class:`Step`,
:class:`ActionOutcome`) that know nothing of transports: each transport turns
them into its own frames (``games.frames``, ``games.api``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from games import broadcast, monitoring, quotas
from games.engine import InvalidOptions, UnknownGame, get_game
from games.engine.clocks import format_time, next_deadline, overdue
from games.engine.errors import ErrorCode, GameError
from games.engine.fold import advance, initial
from games.engine.fold import replay as fold_replay
from games.engine.game import rules_result
from games.engine.match import PLAYER_ACTIONS, Event, EventKind, MatchData, PlayerEntry, Presence, Status, seat_of
from games.engine.options import validate_options
from games.inputs import UnsafeInput, check_text
from games.models import ChatMessage, Match, MatchEvent, Player, Seat
from games.outcomes import ActionOutcome, Current, Step
from games.records import (
    as_checkpoint,
    event_of,
    from_checkpoint,
    locked_match,
    log_event,
    match_data,
    player_entry,
    presence_of,
    seat_rows,
)
from games.records import store as store_match
from games.signals import event_logged, match_ended, match_ending, match_status_changed

__all__ = ["ActionOutcome", "Current", "GameError", "Step"]  # what callers catch and get back

CHAT_MAX_LENGTH = 500
CHECKPOINT_EVERY = 16


# --- reading ---------------------------------------------------------------


def get_match(match_id: int) -> Match:
    match = Match.objects.filter(pk=match_id).first()
    if match is None:
        raise GameError(ErrorCode.NOT_FOUND, f"no match {match_id}")
    return match


def load_match(match_id: int) -> Current:
    match = get_match(match_id)
    seats = seat_rows(match_id)
    return Current(match_data(match, seats), presence_of(seats))


def events_after(match_id: int, after: int) -> tuple[Current, list[Event]]:
    """The match and its logged events with ``seq > after``, oldest first."""
    latest = load_match(match_id)
    # seq__lte: an event committed after the match was read is not shown
    # with a match that does not include it yet.
    rows = MatchEvent.objects.filter(match_id=match_id, seq__gt=after, seq__lte=latest.match["seq"]).order_by("seq")
    return latest, [event_of(row) for row in rows]


def replay(match: Match, seats: list[Seat], after: int = 0) -> list[tuple[Event, MatchData]]:
    """Logged events of ``match`` with the match as it stood after each,
    computed from the log: every event, or (``after`` > 0) those from the
    nearest checkpoint at or before ``after`` on, so the cost is the events
    asked for plus at most ``CHECKPOINT_EVERY``, not the whole log."""
    players = {seat.seat: player_entry(seat) for seat in seats}
    start = _checkpoint(match.pk, after, players) if after > 0 else None
    if start is None:
        start = initial(match.pk, match.game, match.seat_count, match.options)
    rows = MatchEvent.objects.filter(match_id=match.pk, seq__gt=start["seq"], seq__lte=match.seq).order_by("seq")
    return list(fold_replay(start, (event_of(row) for row in rows), players))


def _checkpoint(match_id: int, at_most: int, players: dict[int, PlayerEntry]) -> MatchData | None:
    stored = (
        MatchEvent.objects.filter(match_id=match_id, seq__lte=at_most, checkpoint__isnull=False)
        .order_by("-seq")
        .values_list("checkpoint", flat=True)
        .first()
    )
    return None if stored is None else from_checkpoint(stored, players)


def replay_differences(match: Match) -> list[str]:
    """The fields in which the stored match differs from the replay of its
    log, and the checkpoints that differ from it (an empty list is the
    invariant every match must keep)."""
    seats = seat_rows(match.pk)
    stored = match_data(match, seats)
    steps = replay(match, seats)
    if not steps:
        return ["seq"]
    replayed = steps[-1][1]
    stored = {**stored, "result": rules_result(stored["result"])}  # other apps' keys are not in the log
    differences = sorted(key for key in stored if stored[key] != replayed[key])  # type: ignore[literal-required]
    checkpoints = dict(
        MatchEvent.objects.filter(match_id=match.pk, checkpoint__isnull=False).values_list("seq", "checkpoint")
    )
    for event, data in steps:
        if event["seq"] in checkpoints and checkpoints[event["seq"]] != as_checkpoint(data):
            differences.append(f"checkpoint {event['seq']}")
    return differences


def replay_since(match_id: int, after: int, limit: int) -> tuple[Current, list[tuple[Event, MatchData]] | None]:
    """The events after ``after``, each with the match as it stood then; ``None``
    instead of the list when a snapshot is the better answer (nothing missed,
    too much missed, or ``after`` is nonsense). Costs the events missed (see
    :func:`replay`); the usual case, one missed event, is the stored match itself."""
    match = get_match(match_id)
    seats = seat_rows(match_id)
    latest = Current(match_data(match, seats), presence_of(seats))
    if not 0 <= after < match.seq or match.seq - after > limit:
        return latest, None
    if after == match.seq - 1:
        return latest, [(event_of(MatchEvent.objects.get(match_id=match_id, seq=match.seq)), latest.match)]
    return latest, [(event, data) for event, data in replay(match, seats, after) if event["seq"] > after]


# --- writing ---------------------------------------------------------------


def lock_match(match_id: int) -> Match:
    match = locked_match(match_id)
    if match is None:
        raise GameError(ErrorCode.NOT_FOUND, f"no match {match_id}")
    return match


class _Locked:
    """A match under its row lock, inside the transaction that holds it:
    what :meth:`append` logs is stored and broadcast after commit."""

    def __init__(self, row: Match, data: MatchData, presence: Presence, now: datetime) -> None:
        self.row, self.data, self.presence, self.now = row, data, presence, now

    @classmethod
    def lock(cls, match_id: int) -> _Locked:
        row = lock_match(match_id)
        # The seats in a statement of their own, after the lock is held: one
        # query joining them to the locked row would see the seats as they
        # were before a join that committed while it waited for the lock.
        seats = seat_rows(match_id)
        # Read under the lock, so logged times never go backwards.
        return cls(row, match_data(row, seats), presence_of(seats), timezone.now())

    def seat_of(self, player: Player | None) -> int | None:
        return seat_of(self.data, player.pk if player else None)

    def append(
        self,
        kind: EventKind,
        seat: int | None,
        player: Player | None,
        move: Any = None,
        joined: PlayerEntry | None = None,
    ) -> Step:
        """Validate and log one event, store the match after it, and schedule
        the broadcast; raises :class:`GameError` before any write if the
        event is not allowed."""
        before = self.data
        event: Event = {"seq": before["seq"] + 1, "kind": kind, "seat": seat, "move": move, "at": format_time(self.now)}
        after = advance(before, event, joined)
        if Status(after["status"]).over and not Status(before["status"]).over:
            after = self._annotate_ending(after, event)
        checkpoint = as_checkpoint(after) if event["seq"] % CHECKPOINT_EVERY == 0 else None
        log_event(MatchEvent(
            match=self.row, seq=event["seq"], kind=kind, seat=seat, player=player, move=move, at=self.now,
            checkpoint=checkpoint,
        ))  # fmt: skip
        store_match(self.row, after, self.presence, self.now)
        self.data = after
        step = Step(event, after, self.presence, before)
        message = broadcast.event_broadcast(step)  # built once, for every process
        step, match_id = replace(step, message=message), self.row.pk
        transaction.on_commit(lambda: broadcast.send_to_match(match_id, message), robust=True)
        if event_logged.receivers:
            event_logged.send(sender=Match, match=self.row, data=after, event=event)
        if before["status"] != after["status"] or before["seq"] == 0:
            match_status_changed.send(sender=Match, match=self.row, data=after, previous=before["status"])
            if Status(after["status"]).over:
                match_ended.send(sender=Match, match=self.row, data=after, event=event)
        return step

    def _annotate_ending(self, after: MatchData, event: Event) -> MatchData:
        """The ending match with what ``match_ending`` receivers add to its result."""
        added: dict[str, Any] = {}
        for _receiver, response in match_ending.send(sender=Match, match=self.row, data=after, event=event):
            if isinstance(response, dict):
                added.update(response)
        if not added or after["result"] is None:
            return after
        return {**after, "result": {**after["result"], **added}}  # type: ignore[typeddict-item]

    def settle_overdue(self) -> Step | None:
        """Log the timeout or abandonment the match owes now, if any, so a
        move and a flag arriving together resolve to exactly one outcome."""
        due = overdue(self.data, self.presence, self.now)
        if due is None:
            return None
        kind, seats = due
        return self.append(kind, seats[0] if len(seats) == 1 else None, None, {"seats": seats})

    def seat_player(self, player: Player, seat_number: int, away: bool = False) -> Step:
        """Seat ``player``; ``away``: as if their last socket closed now, so
        that never showing up loses by abandonment (see :func:`start_match`)."""
        left_at = self.now if away else None
        seat = Seat.objects.create(match=self.row, seat=seat_number, player=player, left_at=left_at)
        seat.player = player
        self.presence = {
            **self.presence,
            seat_number: {"connected": False, "left_at": format_time(left_at) if left_at else None},
        }
        return self.append(EventKind.JOIN, seat_number, player, joined=player_entry(seat))

    def current(self) -> Current:
        return Current(self.data, self.presence)


def _new_match(game_slug: str, options: dict[str, Any], seat_count: int, creator: Player, **fields: Any) -> _Locked:
    game = get_game(game_slug)
    row = Match.objects.create(
        game=game.slug,
        seat_count=seat_count,
        options=options,
        created_by=creator,
        state=game.initial_state(seat_count, options),
        **fields,
    )
    return _Locked(row, initial(row.pk, game.slug, seat_count, options), {}, timezone.now())


def start_match(
    players: list[Player], game_slug: str, options: dict[str, Any], away: Collection[Player] = (), **fields: Any
) -> Current:
    """A match with every seat taken at once, in order (tournaments, rematches,
    quick play). Must run inside a transaction. The ``away`` players count as
    gone from the start until their first socket opens: a player who was
    paired but never shows up loses by abandonment instead of leaving the
    match active for ever (players who play over HTTP only are never
    abandoned, so they must not be ``away``)."""
    locked = _new_match(game_slug, options, len(players), players[0], **fields)
    absent = {player.pk for player in away}
    for seat, player in enumerate(players):
        locked.seat_player(player, seat, away=player.pk in absent)
    return locked.current()


def match_terms(game_slug: str, options: Any, seats: int | None = None) -> tuple[str, dict[str, Any], int]:
    """The game's slug, the options to store and the number of seats of a new
    match (``seats``: the game's fewest when ``None``), or the house's
    refusal: ``unknown_game``, ``invalid_options``. Every way of starting a
    match (creation, quick play, the computer) checks its terms here."""
    try:
        game = get_game(game_slug)
    except UnknownGame:
        raise GameError(ErrorCode.UNKNOWN_GAME, f"unknown game {game_slug!r}") from None
    seat_count = game.min_players if seats is None else seats
    if not game.min_players <= seat_count <= game.max_players:
        raise GameError(
            ErrorCode.INVALID_OPTIONS, f"{game.slug} is played by {game.min_players} to {game.max_players} players"
        )
    try:
        return game.slug, validate_options(game.slug, options or {}), seat_count
    except InvalidOptions as problem:
        raise GameError(ErrorCode.INVALID_OPTIONS, str(problem)) from None


def create_match(
    player: Player, game_slug: str, options: dict[str, Any] | None = None, seats: int | None = None
) -> Current:
    """A new match of ``game_slug``, the creator in seat 0."""
    slug, valid, seat_count = match_terms(game_slug, options, seats)
    with transaction.atomic():
        _check_open_matches(player)
        locked = _new_match(slug, valid, seat_count, player)
        locked.seat_player(player, 0)
        return locked.current()


def _check_open_matches(player: Player) -> None:
    """At most ``GAMES_MAX_OPEN_MATCHES_PER_PLAYER`` matches of a player wait
    for opponents at once (the lobby list is for everyone). The player's row
    lock makes two creations at once count each other."""
    Player.objects.select_for_update().filter(pk=player.pk).first()
    waiting = Match.objects.filter(created_by=player, status=Status.WAITING).count()
    if waiting >= settings.GAMES_MAX_OPEN_MATCHES_PER_PLAYER:
        monitoring.RATE_LIMITED.labels(limit="open_matches").inc()
        raise GameError(
            ErrorCode.TOO_MANY_OPEN_MATCHES,
            f"you already have {waiting} matches waiting for opponents; wait until one of them fills",
        )


def join_match(match_id: int, player: Player) -> Current:
    """Seat ``player`` at the next free seat; joining again changes nothing."""
    with transaction.atomic():
        locked = _Locked.lock(match_id)
        if locked.seat_of(player) is not None:
            return locked.current()
        taken = {p["seat"] for p in locked.data["players"]}
        if len(taken) >= locked.data["seats"]:
            raise GameError(ErrorCode.MATCH_FULL, "every seat of this match is taken")
        if locked.data["status"] != Status.WAITING:
            raise GameError(ErrorCode.MATCH_NOT_ACTIVE, f"the match is {locked.data['status']}")
        locked.seat_player(player, min(set(range(locked.data["seats"])) - taken))
        return locked.current()


def act(
    match_id: int, player: Player | None, kind: str, move: Any = None, expected_seq: int | None = None
) -> ActionOutcome:
    """Apply one player action (``move``, ``resign``, ``offer_draw``,
    ``accept_draw``, ``rematch``).

    ``expected_seq`` is the last seq the client saw: an action taken against
    an older (or unknown) version of the match is refused as ``stale_seq``.
    A deadline that has passed is settled first and committed even when the
    action is then refused (the outcome's ``settled``).
    """
    if kind not in PLAYER_ACTIONS:
        raise GameError(ErrorCode.BAD_MESSAGE, f"unknown action {kind!r}")
    step: Step | None = None
    refusal: GameError | None = None
    with transaction.atomic():
        locked = _Locked.lock(match_id)
        settled = locked.settle_overdue()
        try:
            step = _apply_action(locked, player, EventKind(kind), move, expected_seq)
        except GameError as error:
            refusal = error
    monitoring.MOVES.labels(outcome=refusal.code if refusal else "accepted").inc()
    return ActionOutcome(settled=settled, step=step, refusal=refusal)


def _apply_action(locked: _Locked, player: Player | None, kind: EventKind, move: Any, expected_seq: int | None) -> Step:
    """Checks and the log write of :func:`act`. Every check runs before the
    first write, so a refusal leaves the transaction clean."""
    seat = locked.seat_of(player)
    if seat is None or player is None:
        raise GameError(ErrorCode.NOT_A_PLAYER, "only the match's players may do that")
    before = locked.data
    if expected_seq is not None and before["status"] == Status.ACTIVE and expected_seq != before["seq"]:
        raise GameError(ErrorCode.STALE_SEQ, f"the match is at seq {before['seq']}, you acted at seq {expected_seq}")
    if kind == EventKind.REMATCH:
        return _request_rematch(locked, player, seat)
    return locked.append(kind, seat, player, move=move)


def _request_rematch(locked: _Locked, player: Player, seat: int) -> Step:
    """Log the request; the last player's request also creates the new
    match, seats rotated by one, and names it in the event."""
    before = locked.data
    asked = {*before["rematch"]["seats"], seat}
    if len(asked) < before["seats"] or seat in before["rematch"]["seats"] or before["status"] != Status.FINISHED:
        return locked.append(EventKind.REMATCH, seat, player)  # advance() refuses what is not allowed
    seated = {p["seat"]: p["id"] for p in before["players"]}
    players = Player.objects.in_bulk(seated.values())
    rotated = [players[seated[(new_seat - 1) % before["seats"]]] for new_seat in range(before["seats"])]
    rematch = start_match(rotated, locked.row.game, locked.row.options)
    match_id = locked.row.pk
    transaction.on_commit(lambda: broadcast.send_to_match(match_id, broadcast.rematch_broadcast(rematch)), robust=True)
    return locked.append(EventKind.REMATCH, seat, player, move={"match": rematch.match["id"]})


def play_move(match_id: int, player: Player | None, move: Any, expected_seq: int | None = None) -> Step:
    """A move for callers that answer a refusal with an exception (HTTP, scripts)."""
    outcome = act(match_id, player, EventKind.MOVE, move, expected_seq)
    if outcome.refusal is not None:
        raise outcome.refusal
    assert outcome.step is not None
    return outcome.step


def abort_match(match_id: int, reason: str) -> Step:
    """Stop a waiting or active match (staff); logged like any other event."""
    with transaction.atomic():
        return _Locked.lock(match_id).append(EventKind.ABORT, None, None, move={"reason": reason})


def log_ticks(match_id: int, tick: int, inputs: list[tuple[int, Any]], epoch: int, fence: Callable[[], None]) -> Step:
    """Log a real-time match's tick ``tick`` with the inputs applied at it
    (``[(seat, input), ...]`` in the order they arrived): the path every
    other event takes (lock, validate by the fold, write, broadcast after
    commit). ``fence`` runs under the match's row lock before anything is
    written and raises if the caller no longer owns the match's loop (see
    ``games.realtime``), so an owner that lost its lease cannot write;
    ``epoch``, the owner's lease epoch, is logged with the tick (for audit)."""
    with transaction.atomic():
        locked = _Locked.lock(match_id)
        fence()
        move = {"tick": tick, "inputs": [[seat, sent] for seat, sent in inputs], "epoch": epoch}
        return locked.append(EventKind.TICKS, None, None, move=move)


def settle_deadline(match_id: int) -> bool:
    """Apply the timeout or abandonment a match owes now; for the clock
    worker. Returns whether anything happened."""
    with transaction.atomic():
        locked = _Locked.lock(match_id)
        deadline = next_deadline(locked.data, locked.presence)
        settled = locked.settle_overdue()
        if settled is None and locked.row.deadline_at != deadline:
            locked.row.deadline_at = deadline
            locked.row.save(update_fields=["deadline_at"])
    return settled is not None


def due_matches(now: datetime, limit: int = 100) -> list[int]:
    return list(
        Match.objects.filter(status=Status.ACTIVE, deadline_at__lte=now)
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- chat ------------------------------------------------------------------


def post_chat(match_id: int, player: Player | None, text: Any) -> None:
    """Store a chat line (for moderation) and send it to everyone watching."""
    if player is None:
        raise GameError(ErrorCode.NOT_AUTHENTICATED, "log in to chat")
    if not isinstance(text, str) or not text.strip():
        raise GameError(ErrorCode.BAD_MESSAGE, "chat text must be a non-empty string")
    if len(text) > CHAT_MAX_LENGTH:
        raise GameError(ErrorCode.BAD_MESSAGE, f"chat text is limited to {CHAT_MAX_LENGTH} characters")
    try:
        check_text(text, "chat text")
    except UnsafeInput as unsafe:
        raise GameError(ErrorCode.BAD_MESSAGE, str(unsafe)) from None
    quotas.check_shared("player_chat", player.pk, "chat lines")
    with transaction.atomic():
        match = get_match(match_id)
        seat = Seat.objects.filter(match_id=match_id, player=player).values_list("seat", flat=True).first()
        line = ChatMessage.objects.create(match=match, player=player, seat=seat, text=text.strip())
        message = broadcast.chat_broadcast(match.seq, seat, player.name, line.text, line.at)
        transaction.on_commit(lambda: broadcast.send_to_match(match_id, message), robust=True)
