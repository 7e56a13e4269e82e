"""Whatever ends a socket, the player is shown disconnected and the match
ends by abandonment with nobody sending anything: a Redis server of the
test's own that dies mid-match, SIGTERM of a real daphne process (sockets
close with 1012 and presence is recorded before it exits), and kill -9 of
one (its sockets are swept within three heartbeat periods).

Real processes throughout: daphne and the clock worker on the test
database, each killed or signalled by its own PID."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.db import DatabaseError, connection

from games import presence
from games.models import Connection, Match, Seat
from tests.conftest import pair
from tests.live import Person, closed_code, in_thread, own_redis, running_processes, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HEARTBEAT = 0.5
ABANDON_AFTER = 2  # seconds, the matches' abandon_timeout


def tictactoe_between(url: str) -> tuple[Person, Person, int]:
    alice, bob = Person(url, "alice"), Person(url, "bob")
    alice.register()
    bob.register()
    match = alice.post("/api/matches", {"game": "tictactoe", "options": {"abandon_timeout": ABANDON_AFTER}})
    bob.post(f"/api/matches/{match['id']}/join")
    return alice, bob, match["id"]


def connections(match_id: int) -> list[int]:
    return list(Seat.objects.filter(match_id=match_id).order_by("seat").values_list("connections", flat=True))


def abandoned(match_id: int) -> bool:
    match = Match.objects.get(pk=match_id)
    return match.status == "finished" and match.result["reason"] == "abandoned"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def live(transactional_db: None, logs: Path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """One daphne process and the clock worker, heartbeat every 0.5 s."""
    with running_processes(logs, worker=True, env={"GAMES_HEARTBEAT_SECONDS": str(HEARTBEAT)}) as (urls, processes):
        yield urls[0], processes


async def test_a_redis_outage_mid_match_still_ends_it_by_abandonment(transactional_db: None, logs: Path) -> None:
    """Redis dies under every socket: they close, their closes are recorded
    although leaving the group fails, and after Redis comes back the match
    ends by abandonment; a spectator arriving then sees both players gone."""
    with own_redis(logs) as (redis_url, redis):
        env = {"REDIS_URL": redis_url, "GAMES_HEARTBEAT_SECONDS": str(HEARTBEAT)}
        with running_processes(logs, worker=True, env=env) as (urls, _):
            alice, bob, match_id = tictactoe_between(urls[0])
            sockets = [await alice.open(match_id), await bob.open(match_id)]
            await in_thread(wait_for, lambda: connections(match_id) == [1, 1], 5, "both connected")
            redis.kill()  # SIGKILL, by its PID: this test's Redis only
            redis.wait()
            codes = [await closed_code(sock) for sock in sockets]
            assert all(code != 1000 for code in codes), codes
            port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
            with own_redis(logs, port):
                await in_thread(wait_for, lambda: connections(match_id) == [0, 0], 5, "both disconnected")
                await in_thread(wait_for, lambda: abandoned(match_id), ABANDON_AFTER + 8, "abandonment")
                spectator = await websockets.connect(f"{urls[0].replace('http', 'ws')}/ws/matches/{match_id}/")
                snapshot = json.loads(await asyncio.wait_for(spectator.recv(), 5))
                await spectator.close()
    assert [p["connected"] for p in snapshot["match"]["players"]] == [False, False]
    assert snapshot["match"]["result"] == {"winner": 1, "reason": "abandoned"}  # alice (X) was to move


async def test_sigterm_closes_sockets_with_1012_and_records_presence(
    live: tuple[str, list[subprocess.Popen]],
) -> None:
    url, (server, _) = live
    alice, bob, match_id = tictactoe_between(url)
    sockets = [await alice.open(match_id), await bob.open(match_id)]
    lobby = await websockets.connect(f"{url.replace('http', 'ws')}/ws/lobby/")
    assert json.loads(await asyncio.wait_for(lobby.recv(), 5))["type"] == "lobby"
    await in_thread(wait_for, lambda: connections(match_id) == [1, 1], 5, "both connected")
    os.kill(server.pid, signal.SIGTERM)
    assert [await closed_code(sock) for sock in [*sockets, lobby]] == [1012, 1012, 1012]
    assert await in_thread(server.wait, 10) == 0
    # Recorded by the process itself before it exited, not by a later sweep.
    assert await in_thread(connections, match_id) == [0, 0]
    await in_thread(wait_for, lambda: abandoned(match_id), ABANDON_AFTER + 5, "abandonment")


async def test_kill_9_is_noticed_within_three_heartbeats(live: tuple[str, list[subprocess.Popen]]) -> None:
    url, (server, _) = live
    alice, bob, match_id = tictactoe_between(url)
    sockets = [await alice.open(match_id), await bob.open(match_id)]
    await in_thread(wait_for, lambda: connections(match_id) == [1, 1], 5, "both connected")
    server.kill()  # SIGKILL: nothing of the process runs any more
    server.wait()
    took = await in_thread(wait_for, lambda: connections(match_id) == [0, 0], 10, "the sweep")
    assert took <= 3 * HEARTBEAT + 0.5  # three periods, and the poll's slack
    await in_thread(wait_for, lambda: abandoned(match_id), ABANDON_AFTER + 5, "abandonment")
    for sock in sockets:
        assert await closed_code(sock) == 1006


def refuse(table: str, when: str) -> None:
    """A real database fault: PostgreSQL refuses every ``when`` (INSERT,
    UPDATE) on ``table`` until :func:`stop_refusing`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION games_test_refuse() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(f"CREATE TRIGGER games_test_refuse BEFORE {when} ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION games_test_refuse()")  # fmt: skip


def stop_refusing(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS games_test_refuse ON {table}")


@contextmanager
def refusing(table: str, when: str) -> Iterator[None]:
    refuse(table, when)
    try:
        yield
    finally:
        stop_refusing(table)


def test_a_seat_that_could_not_be_taken_is_never_vouched_for(active_match: dict, alice: Any) -> None:
    """The socket's row is inserted, then the transaction fails: the process
    must not go on vouching for a socket with no row, or the next heartbeat
    would bring the player back as connected, for good."""
    with refusing("games_seat", "UPDATE"), pytest.raises(DatabaseError):
        presence.socket_opened(active_match["id"], alice, "doomed-channel")
    assert presence.heartbeat() == 0
    assert Connection.objects.count() == 0
    assert connections(active_match["id"]) == [0, 0]


async def test_a_database_error_in_a_handler_costs_the_message_not_the_socket(
    active_match: dict, alice: Any, bob: Any, connect: Any
) -> None:
    """An exception in a handler (here PostgreSQL refusing the chat insert)
    is answered with server_error; the socket goes on, and its close is
    still recorded."""
    a, b = await pair(connect, active_match["id"], alice, bob)
    await database_sync_to_async(refuse)("games_chatmessage", "INSERT")
    try:
        await a.send({"type": "chat", "text": "hello", "ref": 7})
        error = await a.next("error")
    finally:
        await database_sync_to_async(stop_refusing)("games_chatmessage")
    assert (error["code"], error["ref"]) == ("server_error", 7)
    await a.move({"cell": 4})
    assert (await b.next("event"))["event"]["move"] == {"cell": 4}
    await a.close()
    await b.presence(0, False)
    assert await database_sync_to_async(connections)(active_match["id"]) == [0, 1]
