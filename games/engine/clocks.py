"""Time in a match: charging clocks, and the deadlines the server must act on.

Time comes only from the events' server timestamps (``at``), never from a
client, so a replay charges the clocks exactly as the live match did.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from games.engine.match import EventKind, MatchData, Presence, Status, turn
from games.engine.options import DEFAULT_ABANDON_TIMEOUT


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def format_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def charge(data: MatchData, running: list[int], at: datetime) -> None:
    """Take the time since ``since`` off the ``running`` seats' clocks, in place."""
    if data["clock"] is None or data["since"] is None:
        return
    # Never negative: an event stamped before the last one (clocks of two
    # processes, or a replay of such a log) must not credit anyone time.
    elapsed = max(0, round((at - parse_time(data["since"])).total_seconds() * 1000))
    for seat in running:
        data["clock"]["remaining"][seat] -= elapsed


def remaining_ms(data: MatchData, now: datetime) -> list[int] | None:
    """Each seat's clock as of ``now`` (running clocks charged up to it)."""
    if data["clock"] is None:
        return None
    remaining = list(data["clock"]["remaining"])
    if data["since"] is not None:
        elapsed = round((now - parse_time(data["since"])).total_seconds() * 1000)
        for seat in turn(data):
            remaining[seat] -= elapsed
    return [max(0, ms) for ms in remaining]


class Deadline(NamedTuple):
    when: datetime
    kind: EventKind  # timeout or abandon
    seat: int


def deadlines(data: MatchData, presence: Presence) -> list[Deadline]:
    """Every moment the server must act unless someone moves first, earliest
    first. ``presence`` says whose sockets are all closed (abandonment)."""
    if data["status"] != Status.ACTIVE:
        return []
    options = data["options"]
    found = []
    for seat in turn(data):
        started = data["turn_started"][seat]
        if data["clock"] is not None and data["since"] is not None:
            out_of_time = parse_time(data["since"]) + timedelta(milliseconds=data["clock"]["remaining"][seat])
            found.append(Deadline(out_of_time, EventKind.TIMEOUT, seat))
        if "move_timeout" in options and started is not None:
            found.append(
                Deadline(parse_time(started) + timedelta(seconds=options["move_timeout"]), EventKind.TIMEOUT, seat)
            )
        away = presence.get(seat)
        if away is not None and not away["connected"] and away["left_at"] and started is not None:
            away_since = max(parse_time(away["left_at"]), parse_time(started))
            abandon_after = options.get("abandon_timeout", DEFAULT_ABANDON_TIMEOUT)
            found.append(Deadline(away_since + timedelta(seconds=abandon_after), EventKind.ABANDON, seat))
    return sorted(found)


def next_deadline(data: MatchData, presence: Presence) -> datetime | None:
    found = deadlines(data, presence)
    return found[0].when if found else None


def overdue(data: MatchData, presence: Presence, now: datetime) -> tuple[EventKind, list[int]] | None:
    """The event the server owes the match at ``now``: the earliest deadline
    that has passed, with every seat whose deadline of that kind fell at that
    same instant (only those: a seat whose time ran out later did not run out
    first, however late the clock loop looks)."""
    found = deadlines(data, presence)
    if not found or found[0].when > now:
        return None
    first = found[0]
    return first.kind, sorted({d.seat for d in found if d.when == first.when and d.kind == first.kind})
