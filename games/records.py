"""The one place that maps a match between its typed form (``games.engine.match``)
and its database rows: ``Match``, its ``Seat`` rows (who sits where, and
their live presence) and its ``MatchEvent`` log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from games.engine.clocks import format_time, next_deadline
from games.engine.match import ENGINE_FIELDS, Event, MatchData, PlayerEntry, Presence, Status
from games.models import Match, MatchEvent, Seat


def seat_rows(match_id: int) -> list[Seat]:
    """The match's seat rows with their players, in seat order."""
    return list(Seat.objects.filter(match_id=match_id).select_related("player").order_by("seat"))


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
    match.save()


def event_of(row: MatchEvent) -> Event:
    return {"seq": row.seq, "kind": row.kind, "seat": row.seat, "move": row.move, "at": format_time(row.at)}


def as_checkpoint(data: MatchData) -> dict[str, Any]:
    """A checkpoint keeps who sits where by seat only: names live in the seat rows."""
    return {**data, "players": [player["seat"] for player in data["players"]]}


def from_checkpoint(stored: dict[str, Any], players: dict[int, PlayerEntry]) -> MatchData:
    return cast(MatchData, {**stored, "players": [players[seat] for seat in stored["players"]]})
