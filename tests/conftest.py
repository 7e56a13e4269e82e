"""Shared fixtures. Tests marked ``integration`` need the real PostgreSQL and
Redis: without DATABASE_URL and REDIS_URL they are skipped with that reason,
except under CI=true, where a missing service is a failure, never a skip."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connection

from games import services
from games.accounts import create_guest, issue_ticket
from games.clock import run_clock
from games.models import Player

ORIGIN = (b"origin", b"http://localhost:8000")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("integration") is None:
        return
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if not missing:
        return
    reason = f"integration test needs {' and '.join(missing)} (the real PostgreSQL and Redis)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run must set them")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def close_pooled_connections() -> Any:
    """Return every pooled connection at the end, so the test database can be dropped."""
    yield
    from django.db import connections

    for database in connections.all(initialized_only=True):
        database.close()
        if hasattr(database, "close_pool"):
            database.close_pool()


@pytest.fixture(autouse=True, scope="session")
def asgi_application() -> Any:
    """Import the ASGI application once, up front: importing it takes a
    fifth of a second, which a clock test's first socket must not pay."""
    from gameproject.asgi import application

    return application


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Any:
    """Before the test database is dropped, end the sessions that threads of
    this run (Channels' database thread, live servers) left open on it, so the
    drop succeeds instead of leaving one database behind per run."""
    yield
    from django.db import connection as default

    if default.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), default.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    default.close()


@pytest.fixture(autouse=True)
def every_match_replays_from_its_log(request: pytest.FixtureRequest) -> Any:
    """After every test that used the database: each match it left behind
    (finished by any ending, or still going) equals the replay of its log."""
    uses_db = request.node.get_closest_marker("django_db") or "transactional_db" in request.fixturenames
    if not uses_db or request.node.get_closest_marker("tampers_with_the_log"):
        yield
        return
    # Depend on pytest-django's database fixture so this check runs before
    # the database is flushed at the end of the test.
    request.getfixturevalue("_django_db_helper")
    yield
    from games.models import Match
    from games.services import replay_differences

    differing = {match.pk: replay_differences(match) for match in Match.objects.all()}
    assert not {pk: fields for pk, fields in differing.items() if fields}, "stored matches differ from their logs"


@pytest.fixture(autouse=True)
def forget_live_sockets() -> Any:
    """Each test starts with no sockets registered as open in this process."""
    from games import presence

    presence._live.clear()
    yield
    presence._live.clear()


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Any:
    """A new channel layer object per test. Each async test runs on its own
    event loop, and channels-redis keeps loop-bound locks on the layer object;
    a server process has one loop, so it never meets this."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def make_player(transactional_db: None) -> Callable[[str], Player]:
    def make(name: str = "player") -> Player:
        player, token = create_guest(name)
        player.token = token  # the clear token, for Bearer headers in tests
        return player

    return make


@pytest.fixture
def staff_token(transactional_db: None) -> str:
    """A Bearer token of a staff account, as ``manage.py apitoken`` prints it."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    get_user_model().objects.create_user("organiser", is_staff=True)
    out = io.StringIO()
    call_command("apitoken", "organiser", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def alice(make_player: Callable[[str], Player]) -> Player:
    return make_player("alice")


@pytest.fixture
def bob(make_player: Callable[[str], Player]) -> Player:
    return make_player("bob")


@pytest.fixture
def active_match(alice: Player, bob: Player) -> dict[str, Any]:
    """A tic-tac-toe match with alice on seat 0 (X, to move) and bob on seat 1."""
    data = services.create_match(alice, "tictactoe").match
    return services.join_match(data["id"], bob).match


class Client:
    """A WebSocket client of the real ASGI application (origin check, auth
    middleware, routing, consumer) through Channels' communicator."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def next(self, kind: str, timeout: float = 3, skip: tuple[str, ...] = ("presence",)) -> dict[str, Any]:
        """The next message of type ``kind``, skipping those of the ``skip`` types."""
        while True:
            message = await self.receive(timeout)
            if message["type"] == kind:
                return message
            assert message["type"] in skip, f"expected {kind}, got {message}"

    async def presence(self, seat: int, connected: bool, timeout: float = 3) -> dict[str, Any]:
        """The next presence notice for ``seat`` saying ``connected``."""
        while True:
            message = await self.receive(timeout)
            assert message["type"] == "presence", f"expected presence, got {message}"
            if (message["seat"], message["connected"]) == (seat, connected):
                return message

    async def move(self, move: dict[str, Any], **fields: Any) -> None:
        await self.send({"type": "move", "move": move, **fields})

    async def nothing_but_presence(self, timeout: float = 0.3) -> None:
        while not await self.communicator.receive_nothing(timeout=timeout):
            message = await self.receive()
            assert message["type"] == "presence", f"unexpected {message}"

    async def close(self) -> None:
        """Close the socket. An application that already ended (a test's
        receive timed out, which cancels it) has nothing left to close: that
        test has failed already, and must not also fail its fixtures'
        teardown, which would leave the database unflushed for every later test."""
        if self.communicator.future.done():
            return
        await self.communicator.disconnect()


async def open_path(
    path: str, player: Player | None = None, headers: list[tuple[bytes, bytes]] | None = None, query: str = ""
) -> tuple[Client, bool, int | None]:
    """Open a socket on ``path`` of the real ASGI application, as ``player``
    (by ticket) or anonymously."""
    from gameproject.asgi import application

    if player is not None:
        ticket, _ = await database_sync_to_async(issue_ticket)(player)
        query = "&".join(filter(None, [f"ticket={ticket}", query]))
    if query:
        path += f"?{query}"
    communicator = WebsocketCommunicator(application, path, headers=headers if headers is not None else [ORIGIN])
    connected, code = await communicator.connect()
    return Client(communicator), connected, code


async def open_socket(
    match_id: int, player: Player | None = None, headers: list[tuple[bytes, bytes]] | None = None, query: str = ""
) -> tuple[Client, bool, int | None]:
    return await open_path(f"/ws/matches/{match_id}/", player, headers, query)


@pytest.fixture
async def connect(transactional_db: None) -> Any:
    """``await connect(match_id, player)``: an open socket, snapshot not yet read.
    Every socket opened is closed at the end of the test."""
    clients: list[Client] = []

    async def opener(match_id: int, player: Player | None = None, **kwargs: Any) -> Client:
        client, connected, _ = await open_socket(match_id, player, **kwargs)
        assert connected
        clients.append(client)
        return client

    yield opener
    for client in clients:
        await client.close()
    from games.realtime.relay import stop_relay

    await stop_relay()  # real-time sockets started this loop's relay: close its Redis connections


# --- helpers for playing matches over sockets ---------------------------------


async def seated(alice: Player, bob: Player, game: str, options: dict | None = None) -> int:
    data = (await database_sync_to_async(services.create_match)(alice, game, options)).match
    await database_sync_to_async(services.join_match)(data["id"], bob)
    return data["id"]


async def pair(connect: Callable, match_id: int, alice: Player, bob: Player) -> tuple[Any, Any]:
    a, b = await connect(match_id, alice), await connect(match_id, bob)
    await a.next("snapshot")
    await b.next("snapshot")
    return a, b


async def moves(a: Any, b: Any, sequence: list[tuple[int, dict]]) -> dict:
    """Send each (seat, move); both sockets must see each event. Returns the last."""
    sockets = (a, b)
    event = {}
    for seat, move in sequence:
        await sockets[seat].move(move)
        event = await a.next("event")
        assert (await b.next("event"))["seq"] == event["seq"]
        assert event["event"]["kind"] == "move", event
    return event


def log_ticks_as_owner(match_id: int, logged: list[tuple[int, list[tuple[int, dict]]]]) -> None:
    """Log a real-time match's ticks (``tests.rules_helpers.random_ticks``)
    through ``services.log_ticks``, as its owner would having taken its lease
    over, without running its loop (the match must have no loop running)."""
    from games.realtime import lease

    taken = lease.take_over(match_id, "test-owner", "")
    assert taken is not None, "the match is active and nobody owns it"
    for tick, inputs in logged:
        services.log_ticks(match_id, tick, inputs, taken.epoch, lease.fence(match_id, taken.epoch))


@pytest.fixture(autouse=True)
def realtime_supervisor_off(settings: Any) -> None:
    """No real-time supervisor starts with a test's first socket (as one does
    in a server process): a test that plays a real-time match runs one
    itself (``supervisor``), so it knows which "processes" own matches."""
    settings.GAMES_REALTIME_IN_PROCESS = False


async def start_supervisor(name: str) -> tuple[Any, asyncio.Task, asyncio.Event]:
    """A real-time supervisor running beside the test as another "process"
    named ``name`` would run one (on Redis, with a layer of its own, so what
    the test's sockets send it crosses Redis as between two processes): it,
    its task, and what stops it."""
    from games.realtime.supervisor import Supervisor

    supervising = Supervisor(name)
    stop = asyncio.Event()
    task = asyncio.create_task(supervising.run(stop))
    while not supervising.channel:
        await asyncio.sleep(0.01)
    return supervising, task, stop


@pytest.fixture
async def supervisor(transactional_db: None) -> Any:
    """The real-time supervisor (``games.realtime``) of another "process",
    taking over and running real-time matches as every server process's does."""
    supervising, task, stop = await start_supervisor("test-process")
    yield supervising
    stop.set()
    await task


@pytest.fixture
async def clock_loop() -> Any:
    """The clock worker's loop, running beside the test as it would in its own process."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_clock(0.05, stop))
    yield
    stop.set()
    await task


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads released at the same instant; returns each
    call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
