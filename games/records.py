"""The one place that maps a match between its typed form (``games.engine.match``)
and its database rows: ``Match``, its ``Seat`` rows (who sits where, and
their live presence) and its ``MatchEvent`` log."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Field, Model

from games.engine.clocks import format_time, next_deadline
from games.engine.game import rules_result
from games.engine.match import ENGINE_FIELDS, Event, MatchData, PlayerEntry, Presence, Status
from games.models import Match, MatchEvent, Player, Seat

# Every move runs these statements. Compiling a queryset costs more CPU than
# the database spends answering it, so they are built once per process (by
# the ORM where it can, for whichever database is configured) and run raw.
MATCH_WRITTEN = ("seq", "state", "status", "result", "engine_state", "deadline_at", "started_at", "finished_at",
                 "updated_at")  # fmt: skip


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    assert isinstance(field, Field), name  # a concrete column, not a reverse relation
    return field


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(cast(str, _field(model, name).column))


@cache
def _seats_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT s.*, p.{_column(Player, 'name')} AS player_name FROM {q(Seat._meta.db_table)} s"
        f" INNER JOIN {q(Player._meta.db_table)} p ON p.{_column(Player, 'id')} = s.{_column(Seat, 'player')}"
        f" WHERE s.{_column(Seat, 'match')} = %s ORDER BY s.{_column(Seat, 'seat')}"
    )


@cache
def _lock_sql() -> str:
    """The match row, locked (``FOR UPDATE`` where the database has it)."""
    return Match.objects.select_for_update().filter(pk=0).query.sql_with_params()[0]


@cache
def _update_match_sql() -> str:
    columns = ", ".join(f"{_column(Match, name)} = %s" for name in MATCH_WRITTEN)
    return f"UPDATE {connection.ops.quote_name(Match._meta.db_table)} SET {columns} WHERE {_column(Match, 'id')} = %s"


@cache
def _insert_sql(model: type[Model]) -> str:
    q = connection.ops.quote_name
    fields = _inserted_fields(model)
    columns = ", ".join(q(field.column) for field in fields)
    return f"INSERT INTO {q(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"


def _inserted_fields(model: type[Model]) -> list[Any]:
    return [field for field in model._meta.local_concrete_fields if not field.primary_key]


def seat_rows(match_id: int) -> list[Seat]:
    """The match's seat rows, in seat order, each with its player's id and
    name loaded (the rest of the player is deferred)."""
    seats = list(Seat.objects.raw(_seats_sql(), [match_id]))
    for seat in seats:
        seat.player = Player.from_db(DEFAULT_DB_ALIAS, ["id", "name"], [seat.player_id, seat.player_name])  # type: ignore[attr-defined]
    return seats


def locked_match(match_id: int) -> Match | None:
    """The match row under its lock (inside a transaction), or ``None``."""
    return next(iter(Match.objects.raw(_lock_sql(), [match_id])), None)


def log_event(event: MatchEvent) -> None:
    """Insert one log row (its id is not read back: nothing needs it)."""
    fields = _inserted_fields(MatchEvent)
    values = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(MatchEvent), values)


def player_entry(seat: Seat) -> PlayerEntry:
    return {"seat": seat.seat, "id": seat.player_id, "name": seat.player.name}


def presence_of(seats: list[Seat]) -> Presence:
    return {
        seat.seat: {"connected": seat.connections > 0, "left_at": format_time(seat.left_at) if seat.left_at else None}
        for seat in seats
    }


def match_data(match: Match, seats: list[Seat]) -> MatchData:
    """The match as the fold knows it, from its row and its seat rows."""
    engine = match.engine_state
    return {
        "id": match.pk,
        "game": match.game,
        "status": match.status,
        "seq": match.seq,
        "seats": match.seat_count,
        "options": match.options,
        "players": [player_entry(seat) for seat in seats],
        "state": match.state,
        "result": match.result,
        "clock": engine["clock"],
        "since": engine["since"],
        "turn_started": engine["turn_started"],
        "draw_offer": engine["draw_offer"],
        "rematch": engine["rematch"],
    }


def store(match: Match, data: MatchData, presence: Presence, now: datetime) -> None:
    """Write ``data`` onto the match row (under its lock)."""
    if data["status"] == Status.ACTIVE and match.started_at is None:
        match.started_at = now
    if data["status"] == Status.FINISHED and match.finished_at is None:
        match.finished_at = now
    match.seq, match.state, match.status, match.result = data["seq"], data["state"], data["status"], data["result"]
    match.engine_state = {field: data[field] for field in ENGINE_FIELDS}  # type: ignore[literal-required]
    match.deadline_at = next_deadline(data, presence)
    fields = [_field(Match, name) for name in MATCH_WRITTEN]
    values = [field.get_db_prep_save(field.pre_save(match, False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_update_match_sql(), [*values, match.pk])


def event_of(row: MatchEvent) -> Event:
    return {"seq": row.seq, "kind": row.kind, "seat": row.seat, "move": row.move, "at": format_time(row.at)}


def as_checkpoint(data: MatchData) -> dict[str, Any]:
    """A checkpoint keeps who sits where by seat only (names live in the seat
    rows) and the result as the log replays it (without other apps' keys)."""
    return {**data, "players": [player["seat"] for player in data["players"]], "result": rules_result(data["result"])}


def from_checkpoint(stored: dict[str, Any], players: dict[int, PlayerEntry]) -> MatchData:
    return cast(MatchData, {**stored, "players": [players[seat] for seat in stored["players"]]})
