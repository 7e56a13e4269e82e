"""Who is connected: one ``Connection`` row per open socket of a seated
player, kept under the match's row lock so presence, the abandonment
deadline and moves never disagree.

Every server process refreshes its own rows (``heartbeat``); the clock loop
sweeps rows that stopped being refreshed (``sweep_stale``), which is how the
sockets of a crashed or redeployed process are noticed.
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

from games import timeline
from games.broadcast import send_to_match
from games.models import Connection, Match, Player, Seat
from games.services import get_match, lock_match, match_data, seats_of
from games.timeline import MatchData

logger = logging.getLogger(__name__)
SERVER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _announce(match: Match, seat: int, connected: bool) -> None:
    """Recompute the abandonment deadline and tell the match."""
    data = match_data(match, seats_of(match.pk))
    deadline = timeline.next_deadline(data)
    if deadline != match.deadline_at:
        match.deadline_at = deadline
        match.save(update_fields=["deadline_at"])
    message = {"type": "match.presence", "seq": match.seq, "seat": seat, "connected": connected}
    transaction.on_commit(lambda: send_to_match(match.pk, message), robust=True)


def socket_opened(match_id: int, player: Player | None, channel_name: str) -> tuple[MatchData, int | None]:
    """Record a socket; returns the match and the player's seat (``None`` for
    spectators). A player's first socket announces them and lifts any
    abandonment deadline."""
    with transaction.atomic():
        seat = None
        if player is not None:
            match = lock_match(match_id)
            seat = Seat.objects.filter(match_id=match_id, player=player).first()
        else:
            match = get_match(match_id)
        if seat is not None:
            Connection.objects.create(
                channel_name=channel_name, match=match, seat=seat.seat, server=SERVER_ID, seen_at=timezone.now()
            )
            seat.connections += 1
            seat.left_at = None
            seat.save(update_fields=["connections", "left_at"])
            if seat.connections == 1:
                _announce(match, seat.seat, True)
        return match_data(match, seats_of(match_id)), seat.seat if seat else None


def socket_closed(channel_name: str, left_at: datetime | None = None) -> None:
    """Forget a socket; a player's last one announces that they left."""
    row = Connection.objects.filter(channel_name=channel_name).values("match_id", "seat").first()
    if row is None:
        return
    with transaction.atomic():
        match = lock_match(row["match_id"])
        if Connection.objects.filter(channel_name=channel_name).delete()[0] == 0:
            return  # swept meanwhile
        seat = Seat.objects.get(match=match, seat=row["seat"])
        seat.connections = max(0, seat.connections - 1)
        if seat.connections == 0:
            seat.left_at = left_at or timezone.now()
        seat.save(update_fields=["connections", "left_at"])
        if seat.connections == 0:
            _announce(match, seat.seat, False)


def heartbeat() -> int:
    """Mark this process's sockets as alive; returns how many."""
    return Connection.objects.filter(server=SERVER_ID).update(seen_at=timezone.now())


def sweep_stale(now: datetime | None = None) -> int:
    """Close the rows no process has refreshed for a while (their process is
    gone); the player left when the row was last seen."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.GAMES_HEARTBEAT_SECONDS * 3)
    stale: list[dict[str, Any]] = list(Connection.objects.filter(seen_at__lt=cutoff).values("channel_name", "seen_at"))
    for row in stale:
        socket_closed(row["channel_name"], left_at=row["seen_at"])
    return len(stale)


async def run_heartbeat(period: float) -> None:
    """Refresh this process's sockets every ``period`` seconds, forever."""
    while True:
        await asyncio.sleep(period)
        try:
            await database_sync_to_async(heartbeat)()
        except Exception:
            logger.exception("presence heartbeat failed")
