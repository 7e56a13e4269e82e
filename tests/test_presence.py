"""Presence: counted per socket, announced on a player's first and last
socket, and robust to a server process that dies without closing anything."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from games import presence, services
from games.models import ChatMessage, Connection, Match, Player, Seat
from tests.conftest import pair

pytestmark = pytest.mark.django_db(transaction=True)


async def test_only_first_and_last_socket_of_a_player_are_announced(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    b = await connect(active_match["id"], bob)
    await b.next("snapshot")
    first = await connect(active_match["id"], alice)
    await first.next("snapshot")
    assert (await b.presence(0, True))["seat"] == 0
    second = await connect(active_match["id"], alice)
    await second.next("snapshot")
    await second.close()
    await b.nothing_but_presence()  # may see its own; must not see alice leave
    seat = await database_sync_to_async(Seat.objects.get)(match_id=active_match["id"], seat=0)
    assert seat.connections == 1 and seat.left_at is None
    await first.close()
    assert (await b.presence(0, False))["connected"] is False
    seat = await database_sync_to_async(Seat.objects.get)(match_id=active_match["id"], seat=0)
    assert seat.connections == 0 and seat.left_at is not None


def test_sockets_of_a_dead_server_are_swept(active_match: dict, alice: Player) -> None:
    """A process that died leaves its rows behind; once they are stale the
    sweep closes them, the player shows as gone, and the abandonment clock
    starts from when the dead process last saw them."""
    match_id = active_match["id"]
    now, seat = presence.socket_opened(match_id, alice, "dead-process-channel")
    assert seat == 0 and now.presence[0]["connected"] is True
    presence._live.pop("dead-process-channel")  # as if another process had opened it, and died
    last_seen = timezone.now() - timedelta(minutes=5)
    Connection.objects.filter(channel_name="dead-process-channel").update(seen_at=last_seen, server="gone:1")
    assert presence.heartbeat() == 0  # not this process's socket: nobody refreshes it
    assert presence.sweep_stale() == 1
    seat_row = Seat.objects.get(match_id=match_id, seat=0)
    assert (seat_row.connections, seat_row.left_at) == (0, last_seen)
    match = Match.objects.get(pk=match_id)
    # Alice is to move and away: abandoned 60 s after her turn began (she left before it).
    turn_started = datetime.fromisoformat(match.engine_state["turn_started"][0])
    assert match.deadline_at == turn_started + timedelta(seconds=60)
    assert not services.settle_deadline(match_id)  # not yet due
    assert match.status == "active"


def test_heartbeat_keeps_live_sockets(active_match: dict, alice: Player) -> None:
    presence.socket_opened(active_match["id"], alice, "live-channel")
    Connection.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    assert presence.heartbeat() == 1
    assert presence.sweep_stale() == 0
    assert Seat.objects.get(match_id=active_match["id"], seat=0).connections == 1


def test_a_heartbeat_between_the_sweeps_read_and_delete_keeps_the_socket(active_match: dict, alice: Player) -> None:
    presence.socket_opened(active_match["id"], alice, "busy-channel")
    cutoff = timezone.now()
    Connection.objects.update(seen_at=cutoff - timedelta(minutes=5))
    presence.heartbeat()  # lands after the sweep read the row as stale
    presence.socket_closed("busy-channel", left_at=cutoff, stale_before=cutoff)
    assert Seat.objects.get(match_id=active_match["id"], seat=0).connections == 1
    presence.socket_closed("busy-channel")


def test_a_live_socket_swept_during_an_outage_is_restored(active_match: dict, alice: Player) -> None:
    presence.socket_opened(active_match["id"], alice, "outage-channel")
    Connection.objects.update(seen_at=timezone.now() - timedelta(minutes=5))  # no heartbeat got through
    assert presence.sweep_stale() == 1
    assert Seat.objects.get(match_id=active_match["id"], seat=0).connections == 0
    assert presence.heartbeat() == 1  # the database is back: the socket is still open here
    seat = Seat.objects.get(match_id=active_match["id"], seat=0)
    assert (seat.connections, seat.left_at) == (1, None)
    presence.socket_closed("outage-channel")


BAD_FRAMES = {
    "JSON nested 1,100 levels deep": "[" * 1100 + "]" * 1100,
    "chat holding a NUL character": '{"type": "chat", "text": "hi\\u0000there"}',
    "chat holding a lone surrogate": '{"type": "chat", "text": "\\ud800"}',
}


@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_a_bad_frame_is_refused_and_the_match_still_ends_by_abandonment(
    alice: Player, bob: Player, connect: Any, clock_loop: None, frame: str
) -> None:
    """A frame that used to kill the consumer before its bookkeeping (so the
    player stayed "connected" and the match stalled) gets a clear error; the
    socket goes on; once its player is gone, the match ends with nobody
    sending anything."""
    data = (await database_sync_to_async(services.create_match)(alice, "tictactoe", {"abandon_timeout": 1})).match
    await database_sync_to_async(services.join_match)(data["id"], bob)
    a, b = await pair(connect, data["id"], alice, bob)
    await b.send(frame)
    error = await b.next("error")
    assert error["code"] == "bad_message"
    await a.move({"cell": 4})
    assert (await b.next("event"))["event"]["move"] == {"cell": 4}  # still the same, working socket
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0
    await b.close()
    match = await database_sync_to_async(Match.objects.get)(pk=data["id"])
    assert match.deadline_at is not None  # bob is to move, and gone: the abandonment clock runs
    for _ in range(60):
        match = await database_sync_to_async(Match.objects.get)(pk=data["id"])
        if match.status == "finished":
            break
        await asyncio.sleep(0.05)
    assert match.result == {"winner": 0, "reason": "abandoned"}


def test_the_heartbeat_vouches_only_for_sockets_this_process_holds(active_match: dict, alice: Player) -> None:
    """A socket whose close could not be recorded (the database was down when
    it ended) leaves its row behind: the next heartbeat must close it, not
    keep it alive, so the player is shown gone and abandonment can run."""
    match_id = active_match["id"]
    presence.socket_opened(match_id, alice, "ended-channel")
    presence.forget("ended-channel")  # the socket ended; recording that failed
    assert Seat.objects.get(match_id=match_id, seat=0).connections == 1
    assert presence.heartbeat() == 0
    seat = Seat.objects.get(match_id=match_id, seat=0)
    assert (seat.connections, seat.left_at is not None) == (0, True)
    assert Match.objects.get(pk=match_id).deadline_at is not None
