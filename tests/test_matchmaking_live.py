"""Quick play across real processes: two daphne servers and the clock
worker on PostgreSQL and the Redis layer, many players seeking at once
through both servers, over sockets and over HTTP, in three pools, some of
them from two tabs on different servers. Every seek ends in at most one
match, every match seats two different players whose seeks were of its
pool, every player hears of their own match, and after a wave no two
compatible seekers are left waiting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async

from games.models import Match, Seat
from matchmaking.models import Seek
from tests.live import running_processes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAVE_SECONDS = 0.5
POOLS: list[tuple[str, dict[str, Any]]] = [
    ("tictactoe", {}),
    ("connect4", {"move_timeout": 30}),
    ("chess", {"clock": {"initial": 180, "increment": 2}, "rated": True}),
]
PLAYERS = 42


@pytest.fixture
def servers(transactional_db: None, tmp_path: Path) -> Iterator[list[str]]:
    env = {"MATCHMAKING_WAVE_SECONDS": str(WAVE_SECONDS)}
    with running_processes(tmp_path, servers=2, worker=True, env=env) as (urls, _):
        yield urls


class Seeker:
    """One player: a pool, the server they talk to, and how (socket or HTTP)."""

    def __init__(self, http: httpx.AsyncClient, index: int, urls: list[str]) -> None:
        self.http, self.index = http, index
        self.url, self.other_url = urls[index % 2], urls[(index + 1) % 2]
        self.game, self.options = POOLS[index % len(POOLS)]
        self.two_tabs = index < len(POOLS)  # the first of each pool: a socket on each server
        self.by_socket = self.two_tabs or index % 4 in (0, 1)
        self.sockets: list[websockets.ClientConnection] = []
        self.told: list[int] = []  # matches this player was told about

    async def register(self) -> None:
        body = (await self.http.post(f"{self.url}/api/players", json={"name": f"p{self.index}"})).json()
        self.id, self.headers = body["id"], {"Authorization": f"Bearer {body['token']}"}

    async def socket(self, url: str) -> websockets.ClientConnection:
        ticket = (await self.http.post(f"{url}/api/tickets", headers=self.headers)).json()["ticket"]
        return await websockets.connect(f"{url.replace('http', 'ws')}/ws/queue/?ticket={ticket}")

    async def frame(self, sock: websockets.ClientConnection) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(sock.recv(), timeout=30))
        assert frame["type"] in ("seeking", "paired"), frame
        if frame["type"] == "paired":
            self.told.append(frame["match"])
        return frame

    async def seek_from_two_tabs(self) -> None:
        """Both tabs seek at the same moment, each on its own server: one seek."""
        self.sockets = [await self.socket(self.url), await self.socket(self.other_url)]
        message = json.dumps({"type": "seek", "game": self.game, "options": self.options})
        await asyncio.gather(*(sock.send(message) for sock in self.sockets))
        answers = [await self.frame(sock) for sock in self.sockets]
        assert [a["type"] for a in answers] == ["seeking"] * 2 and answers[0]["seek"]["id"] == answers[1]["seek"]["id"]

    async def play(self) -> None:
        if self.by_socket:
            await self.seek_by_socket()
        else:
            await self.seek_by_http()

    async def seek_by_socket(self) -> None:
        if not self.sockets:
            self.sockets = [await self.socket(self.url)]
            await self.sockets[0].send(json.dumps({"type": "seek", "game": self.game, "options": self.options}))
        try:
            for sock in self.sockets:
                while (await self.frame(sock))["type"] != "paired":
                    pass
        finally:
            for sock in self.sockets:
                await sock.close()

    async def seek_by_http(self) -> None:
        body = {"game": self.game, "options": self.options}
        answer = await self.http.post(f"{self.url}/api/queue", json=body, headers=self.headers)
        assert answer.status_code == 201, answer.text
        seek = answer.json()
        for attempt in range(200):  # polling holds the seek; the two servers take turns
            if seek["status"] != "waiting":
                break
            await asyncio.sleep(0.2)
            url = self.url if attempt % 2 else self.other_url
            seek = (await self.http.get(f"{url}/api/queue/{seek['id']}", headers=self.headers)).json()
        assert seek["status"] == "paired", seek
        self.told.append(seek["match"])


def everything() -> tuple[list[Seek], dict[int, Match], dict[int, list[int]]]:
    seeks = list(Seek.objects.all())
    matches = Match.objects.in_bulk([seek.match_id for seek in seeks if seek.match_id])
    seats: dict[int, list[int]] = {}
    for seat in Seat.objects.filter(match_id__in=list(matches)).order_by("seat"):
        seats.setdefault(seat.match_id, []).append(seat.player_id)
    return seeks, matches, seats


async def test_many_players_seeking_through_two_servers_each_land_in_one_match(servers: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        seekers = [Seeker(http, index, servers) for index in range(PLAYERS)]
        await asyncio.gather(*(seeker.register() for seeker in seekers))
        # First one player per pool, from two tabs on the two servers at once (alone in
        # their pools, they wait); then everyone else, all at once.
        await asyncio.gather(*(seeker.seek_from_two_tabs() for seeker in seekers if seeker.two_tabs))
        results = await asyncio.gather(*(seeker.play() for seeker in seekers), return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        # Then one more player per pool, who stays waiting: nobody is left to pair them with.
        loners = [Seeker(http, PLAYERS + index, servers) for index in range(len(POOLS))]
        alone = []
        for seeker in loners:
            await seeker.register()
            body = {"game": seeker.game, "options": seeker.options}
            alone.append((await http.post(f"{seeker.url}/api/queue", json=body, headers=seeker.headers)).json())
        await asyncio.sleep(3 * WAVE_SECONDS)  # a wave or two later
        for seeker, seek in zip(loners, alone, strict=True):
            polled = (await http.get(f"{seeker.other_url}/api/queue/{seek['id']}", headers=seeker.headers)).json()
            assert (polled["status"], polled["match"]) == ("waiting", None), polled

    seeks, matches, seats = await database_sync_to_async(everything)()
    by_player = {seek.player_id: seek for seek in seeks}
    assert len(seeks) == PLAYERS + len(POOLS) == len(by_player)  # the two tabs of a player held one seek
    assert all(by_player[seeker.id].status == "paired" for seeker in seekers)
    assert len(matches) == PLAYERS // 2
    for match_id, match in matches.items():
        in_match = [seek for seek in seeks if seek.match_id == match_id]
        assert len(in_match) == 2 and in_match[0].player_id != in_match[1].player_id
        assert in_match[0].pool == in_match[1].pool
        assert sorted(seats[match_id]) == sorted(seek.player_id for seek in in_match)
        assert (match.game, match.options, match.status) == (in_match[0].game, in_match[0].options, "active")
        assert {seek.opponent_id for seek in in_match} == set(seats[match_id])
    for seeker in seekers:
        mine = by_player[seeker.id].match_id
        assert seeker.told and set(seeker.told) == {mine}, (seeker.index, seeker.told, mine)
    # No two compatible seekers wait: one per pool is left, the odd one out.
    waiting = [seek for seek in seeks if seek.status == "waiting"]
    assert sorted(seek.player_id for seek in waiting) == sorted(seeker.id for seeker in loners)
    assert len({seek.pool for seek in waiting}) == len(POOLS)
