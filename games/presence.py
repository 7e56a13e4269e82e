"""Who is connected: one ``Connection`` row per open socket of a seated
player, kept under the match's row lock so presence, the abandonment
deadline and moves never disagree.

Every server process refreshes the rows of the sockets it still holds, and
only those (``heartbeat``); the clock loop sweeps rows that stopped being
refreshed (``sweep_stale``), which is how the sockets of a crashed or killed
process are noticed: within two heartbeat periods and one sweep.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from games.broadcast import presence_broadcast, send_to_match
from games.engine.clocks import next_deadline
from games.engine.errors import GameError
from games.models import Connection, Match, Player, Seat
from games.records import match_data, presence_of, seat_rows
from games.services import Current, get_match, lock_match

logger = logging.getLogger(__name__)
SERVER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _announce(match: Match, seat: int, connected: bool) -> None:
    """Recompute the abandonment deadline and tell the match."""
    seats = seat_rows(match.pk)
    deadline = next_deadline(match_data(match, seats), presence_of(seats))
    if deadline != match.deadline_at:
        match.deadline_at = deadline
        match.save(update_fields=["deadline_at"])
    message = presence_broadcast(match.seq, seat, connected)
    transaction.on_commit(lambda: send_to_match(match.pk, message), robust=True)


# This process's open player sockets, channel name -> (match id, seat): what
# the heartbeat vouches for, and restores if a sweep removed it meanwhile.
_live: dict[str, tuple[int, int]] = {}


def _recount(match: Match, seat_number: int, left_at: datetime | None = None) -> None:
    """Set the seat's connection count from its rows (the one source of truth),
    and announce the player when that crosses zero. Runs under the match lock."""
    seat = Seat.objects.get(match=match, seat=seat_number)
    was_connected = seat.connections > 0
    seat.connections = Connection.objects.filter(match=match, seat=seat_number).count()
    if seat.connections:
        seat.left_at = None
    elif was_connected:
        seat.left_at = left_at or timezone.now()
    seat.save(update_fields=["connections", "left_at"])
    if was_connected != (seat.connections > 0):
        _announce(match, seat_number, seat.connections > 0)


def _add_row(match: Match, seat_number: int, channel_name: str, restoring: bool = False) -> None:
    """Record an open socket. This process vouches for it only once the row
    is committed: a transaction that fails after the insert must not leave a
    socket in ``_live`` that no row (and no close) will ever match. A restored
    row (``restoring``) is vouched for only if the socket is still open then."""
    Connection.objects.create(
        channel_name=channel_name, match=match, seat=seat_number, server=SERVER_ID, seen_at=timezone.now()
    )
    entry = (match.pk, seat_number)

    def vouch() -> None:
        if not restoring or channel_name in _live:
            _live[channel_name] = entry

    transaction.on_commit(vouch)
    _recount(match, seat_number)


def socket_opened(match_id: int, player: Player | None, channel_name: str) -> tuple[Current, int | None]:
    """Record a socket; returns the match and the player's seat (``None`` for
    spectators). A player's first socket announces them and lifts any
    abandonment deadline."""
    with transaction.atomic():
        seat = None
        if player is not None:
            match = lock_match(match_id)
            seat = Seat.objects.filter(match_id=match_id, player=player).values_list("seat", flat=True).first()
        else:
            match = get_match(match_id)
        if seat is not None:
            _add_row(match, seat, channel_name)
        seats = seat_rows(match_id)
        return Current(match_data(match, seats), presence_of(seats)), seat


def socket_closed(channel_name: str, left_at: datetime | None = None, stale_before: datetime | None = None) -> None:
    """Forget a socket; a player's last one announces that they left. With
    ``stale_before`` (the sweep), only if the row is still that stale under
    the lock: a heartbeat that came in between keeps it."""
    if stale_before is None:
        forget(channel_name)
    row = Connection.objects.filter(channel_name=channel_name).values("match_id", "seat").first()
    if row is None:
        return
    with transaction.atomic():
        match = lock_match(row["match_id"])
        rows = Connection.objects.filter(channel_name=channel_name)
        if stale_before is not None:
            rows = rows.filter(seen_at__lt=stale_before)
        if rows.delete()[0]:
            _recount(match, row["seat"], left_at)


def forget(channel_name: str) -> bool:
    """Stop vouching for a socket this process no longer holds. Called first
    when a socket ends, before anything that can fail: from then on no
    heartbeat refreshes its row, so the row is closed even if recording the
    close fails now (by this process's next heartbeat, or the sweep). Returns
    whether this process vouched for it."""
    return _live.pop(channel_name, None) is not None


def heartbeat() -> int:
    """Mark this process's open sockets alive, and only those; close rows of
    this process whose socket has ended (their close could not be recorded
    then); re-create rows of open sockets that a sweep removed (say, after
    the database was unreachable for a while). Returns how many are open."""
    now = timezone.now()
    live = list(_live)
    for start in range(0, len(live), 500):
        Connection.objects.filter(channel_name__in=live[start : start + 500]).update(seen_at=now)
    present = set(Connection.objects.filter(server=SERVER_ID).values_list("channel_name", flat=True))
    for channel_name in present - set(_live):
        socket_closed(channel_name)
    for channel_name, (match_id, seat) in list(_live.items()):
        if channel_name not in present:
            try:
                with transaction.atomic():
                    match = lock_match(match_id)
                    # Under the match's lock, which socket_opened also takes: a socket opened on another
                    # database thread since ``present`` was read has its row already.
                    if not Connection.objects.filter(channel_name=channel_name).exists():
                        _add_row(match, seat, channel_name, restoring=True)
            except GameError:
                _live.pop(channel_name, None)  # the match was deleted meanwhile
    return len(_live)


def stale_after() -> timedelta:
    """How long a row may go unrefreshed before its process counts as dead:
    two heartbeat periods, so one late heartbeat is not a disconnection."""
    return timedelta(seconds=settings.GAMES_HEARTBEAT_SECONDS * 2)


def sweep_stale(now: datetime | None = None) -> int:
    """Close the rows no process has refreshed for a while (their process is
    gone); the player left when the row was last seen."""
    cutoff = (now or timezone.now()) - stale_after()
    stale: list[dict[str, Any]] = list(Connection.objects.filter(seen_at__lt=cutoff).values("channel_name", "seen_at"))
    for row in stale:
        socket_closed(row["channel_name"], left_at=row["seen_at"], stale_before=cutoff)
    return len(stale)


async def run_heartbeat(period: float) -> None:
    """Refresh this process's sockets every ``period`` seconds, forever."""
    while True:
        await asyncio.sleep(period)
        try:
            await database_sync_to_async(heartbeat)()
        except Exception:
            logger.exception("presence heartbeat failed")
