"""End to end: two real daphne processes sharing the Redis channel layer and
the PostgreSQL database. Player one talks to the first process, player two
to the second; both must see every event, in order, and the database must
hold the whole log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async

from games.models import Match, MatchEvent
from games.services import replay_differences, replay_since
from tests.live import running_servers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def servers(transactional_db: None, tmp_path: Path) -> Iterator[list[str]]:
    """Two daphne processes and the clock worker, on the test database and the Redis layer."""
    with running_servers(tmp_path, servers=2, worker=True) as urls:
        yield urls


class Player:
    def __init__(self, http: httpx.AsyncClient, url: str, name: str) -> None:
        self.http, self.url, self.name = http, url, name
        self.messages: list[dict] = []

    async def register(self) -> None:
        body = (await self.http.post(f"{self.url}/api/players", json={"name": self.name})).json()
        self.id, self.headers = body["id"], {"Authorization": f"Bearer {body['token']}"}

    async def post(self, path: str, body: dict | None = None, url: str | None = None) -> dict:
        response = await self.http.post(f"{url or self.url}{path}", json=body or {}, headers=self.headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def open(self, match_id: int, url: str | None = None) -> websockets.ClientConnection:
        ticket = (await self.post("/api/tickets", url=url))["ticket"]
        ws_url = (url or self.url).replace("http", "ws")
        return await websockets.connect(f"{ws_url}/ws/matches/{match_id}/?ticket={ticket}")


async def register_pair(http: httpx.AsyncClient, first: str, second: str) -> tuple[Player, Player]:
    """alice on the first process, bob on the second."""
    alice, bob = Player(http, first, "alice"), Player(http, second, "bob")
    await alice.register()
    await bob.register()
    return alice, bob


async def next_of(sock: websockets.ClientConnection, kind: str, log: list[dict]) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(sock.recv(), timeout=10))
        log.append(message)
        if message["type"] == kind:
            return message


async def drain(sock: websockets.ClientConnection, log: list[dict], quiet: float = 1.0) -> None:
    """Read until the socket has been silent for ``quiet`` seconds."""
    try:
        while True:
            log.append(json.loads(await asyncio.wait_for(sock.recv(), timeout=quiet)))
    except TimeoutError:
        return


async def test_two_processes_play_a_full_game(servers: list[str]) -> None:
    first, second = servers
    async with httpx.AsyncClient() as http:
        alice, bob = await register_pair(http, first, second)
        match_id = (await alice.post("/api/matches", {"game": "tictactoe"}))["id"]
        a = await alice.open(match_id)
        await next_of(a, "snapshot", alice.messages)
        await bob.post(f"/api/matches/{match_id}/join")
        b = await bob.open(match_id)
        await next_of(b, "snapshot", bob.messages)
        assert (await next_of(a, "event", alice.messages))["event"]["kind"] == "join"

        sockets = {0: (a, alice), 1: (b, bob)}
        seq = 2
        for turn, cell in enumerate([4, 0, 2, 6, 3, 5, 1, 7, 8]):
            mover_socket, _ = sockets[turn % 2]
            await mover_socket.send(json.dumps({"type": "move", "move": {"cell": cell}, "seq": seq}))
            events = [await next_of(s, "event", p.messages) for s, p in sockets.values()]
            seq += 1
            assert [e["seq"] for e in events] == [seq, seq]
            assert all(e["event"]["move"] == {"cell": cell} for e in events)
        assert events[0]["match"]["result"] == {"winner": None, "reason": "board_full"}
        await a.close()
        await b.close()

    for player in (alice, bob):
        seqs = [m["seq"] for m in player.messages if m["type"] == "event" and m["event"]["kind"] == "move"]
        assert seqs == list(range(3, 12)), f"{player.name} saw {seqs}"
    match, logged, replayed = await database_sync_to_async(stored_log)(match_id)
    assert (match.status, match.seq) == ("finished", 11)
    assert [(e.seq, e.kind) for e in logged] == [(1, "join"), (2, "join")] + [(seq, "move") for seq in range(3, 12)]
    assert [e.move["cell"] for e in logged[2:]] == [4, 0, 2, 6, 3, 5, 1, 7, 8]
    assert replayed[-1][1]["state"] == match.state


def stored_log(match_id: int) -> tuple[Match, list[MatchEvent], list]:
    match = Match.objects.get(pk=match_id)
    return match, list(MatchEvent.objects.filter(match=match).order_by("seq")), replay_since(match_id, 0, 100)[1]


async def test_the_same_move_sent_to_both_processes_at_once_applies_once(servers: list[str]) -> None:
    first, second = servers
    async with httpx.AsyncClient() as http:
        alice, bob = await register_pair(http, first, second)
        match_id = (await alice.post("/api/matches", {"game": "tictactoe"}))["id"]
        await bob.post(f"/api/matches/{match_id}/join")
        on_first, on_second = await alice.open(match_id, first), await alice.open(match_id, second)
        for sock in (on_first, on_second):
            await next_of(sock, "snapshot", [])
        move = json.dumps({"type": "move", "move": {"cell": 4}, "seq": 2})
        await asyncio.gather(on_first.send(move), on_second.send(move))
        # Both sockets get the one event 3; whichever lost the race gets a
        # stale_seq error too. Nothing is applied twice.
        logs: list[list[dict]] = [[], []]
        for sock, log in zip((on_first, on_second), logs, strict=True):
            await next_of(sock, "event", log)
            await drain(sock, log)
        errors = [m for log in logs for m in log if m["type"] == "error"]
        events = [m for log in logs for m in log if m["type"] == "event"]
        assert [e["code"] for e in errors] == ["stale_seq"]
        assert [e["seq"] for e in events] == [3, 3]
        await on_first.close()
        await on_second.close()
    match, logged, _ = await database_sync_to_async(stored_log)(match_id)
    assert [e.kind for e in logged] == ["join", "join", "move"]
    assert match.seq == 3 and match.state["board"].count("X") == 1


async def test_moves_racing_the_clock_worker_resolve_to_one_outcome(servers: list[str]) -> None:
    """Across processes: the clock worker flags white at the deadline while
    white's move, sent to a server just before or just after it, races it.
    Each match ends up with exactly one of the two, consistently."""
    first, second = servers
    offsets = [-0.25, -0.15, -0.08, -0.03, 0.0, 0.03, 0.08, 0.15, 0.25, 0.4]
    async with httpx.AsyncClient() as http:
        alice, bob = await register_pair(http, first, second)
        races = []
        for offset in offsets:
            # Each clock starts at its join: long enough that setting up all ten races (slow on a
            # loaded machine) ends before the first deadline.
            created = await alice.post("/api/matches", {"game": "chess", "options": {"clock": {"initial": 5}}})
            joined = await bob.post(f"/api/matches/{created['id']}/join")
            sock = await alice.open(created["id"], second)
            await next_of(sock, "snapshot", [])
            races.append((created["id"], datetime.fromisoformat(joined["deadline"]), offset, sock))

        async def move_at(match_id: int, deadline: datetime, offset: float, sock: Any) -> list[dict]:
            delay = (deadline - datetime.now(UTC)).total_seconds() + offset
            await asyncio.sleep(max(0.0, delay))
            await sock.send(json.dumps({"type": "move", "move": {"uci": "e2e4"}, "seq": 2}))
            log: list[dict] = []
            await next_of(sock, "event", log)
            await drain(sock, log, quiet=0.5)
            await sock.close()
            return log

        logs = await asyncio.gather(*(move_at(*race) for race in races))

    outcomes = []
    for (match_id, deadline, offset, _), log in zip(races, logs, strict=True):
        match, logged, _ = await database_sync_to_async(stored_log)(match_id)
        first_after_joins = logged[2]
        errors = [m["code"] for m in log if m["type"] == "error"]
        if first_after_joins.kind == "move":
            assert errors == [], (offset, log)
            assert match.state["uci"] == ["e2e4"]
            assert first_after_joins.at <= deadline, "a move was accepted after its side's time ran out"
        else:
            assert (first_after_joins.kind, first_after_joins.seat) == ("timeout", 0), offset
            assert errors == ["match_not_active"], (offset, log)
            assert not [e for e in logged if e.kind == "move"], "a flagged player's move was applied"
            assert match.result == {"winner": 1, "reason": "timeout"}
            assert (first_after_joins.at - deadline).total_seconds() < 1.0
        outcomes.append(first_after_joins.kind)
        assert await database_sync_to_async(replay_differences)(match) == []
    assert {"move", "timeout"} <= set(outcomes), (
        f"the race was not exercised: {list(zip(offsets, outcomes, strict=True))}"
    )
