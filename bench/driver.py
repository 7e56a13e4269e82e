"""The load generator: real clients over loopback sockets, in this process.

Every match is a connect-four game played along a 42-move sequence that fills
the board without a winner, so a match sustains 42 moves. Players alternate
as the rules require: a player sends its move once the previous move's event
has reached it.

Open loop: move k of a match is *scheduled* at ``start + offset + k *
interval``. Its latency runs from that scheduled instant to the moment the
last of the match's players and spectators holds the event, so a slow server
cannot hide its queueing by slowing the senders down (coordinated
omission). Closed loop (``interval=None``): each move is sent as soon as the
previous one arrived; that measures saturated throughput.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ORDER = [0, 1] * 3 + [1, 0] * 3 + [2, 3] * 3 + [3, 2] * 3 + [4, 5] * 3 + [5, 4] * 3 + [6] * 6
HTTP_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency_summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
    }


class Api:
    """JSON calls to the project's HTTP API, at most ``concurrency`` at once."""

    def __init__(self, http: httpx.AsyncClient, concurrency: int = 32) -> None:
        self.http, self.slots = http, asyncio.Semaphore(concurrency)

    async def __call__(self, method: str, path: str, token: str | None = None, body: Any = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.slots:
            response = await self.http.request(method, path, json=body, headers=headers)
        response.raise_for_status()
        return response.json()


@dataclass
class Room:
    """One match (or baseline room): its sockets and what each one saw."""

    key: str
    players: list[ClientConnection] = field(default_factory=list)
    watchers: list[ClientConnection] = field(default_factory=list)
    base_seq: int = 0
    arrivals: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    seen: dict[int, dict[int, asyncio.Event]] = field(default_factory=dict)
    scheduled: dict[int, float] = field(default_factory=dict)
    delivered_bytes: int = 0
    delivered: int = 0

    @property
    def sockets(self) -> list[ClientConnection]:
        return self.players + self.watchers

    def arrived(self, socket_index: int, seq: int) -> asyncio.Event:
        return self.seen.setdefault(socket_index, {}).setdefault(seq, asyncio.Event())


class Driver:
    """Runs one scenario against running servers (``kind``: "project",
    "relay" or "websockets")."""

    def __init__(self, kind: str, urls: list[str], matches: int, spectators: int) -> None:
        self.kind, self.urls, self.matches, self.spectators = kind, urls, matches, spectators
        self.rooms: list[Room] = []
        self.readers: list[asyncio.Task] = []
        self.payload_template = ""

    # --- setup -------------------------------------------------------------

    def ws_url(self, index: int, path: str) -> str:
        return self.urls[index % len(self.urls)].replace("http", "ws") + path

    async def setup(self) -> None:
        if self.kind == "project":
            await self._setup_project()
        else:
            await self._setup_rooms()
        for room in self.rooms:
            for index, sock in enumerate(room.sockets):
                self.readers.append(asyncio.create_task(self._read(room, index, sock)))

    async def _setup_rooms(self) -> None:
        sample = {"type": "event", "event": {"kind": "move", "seat": 0, "move": {"column": 0}},
                  "match": {"state": {"columns": [["R"] * 3] * 7}, "players": [{"name": "player"}] * 2}}  # fmt: skip
        self.payload_template = json.dumps(sample)
        sockets = await asyncio.gather(
            *(self._connect(self.ws_url(s, f"/room/m{m}")) for m in range(self.matches)
              for s in range(2 + self.spectators))
        )  # fmt: skip
        per = 2 + self.spectators
        for m in range(self.matches):
            mine = sockets[m * per : (m + 1) * per]
            self.rooms.append(Room(key=f"m{m}", players=mine[:2], watchers=mine[2:]))

    async def _connect(self, url: str) -> ClientConnection:
        return await connect(url, max_size=2**20, ping_interval=None, open_timeout=60, close_timeout=1)

    async def _setup_project(self) -> None:
        base = self.urls[0]
        async with httpx.AsyncClient(base_url=base, limits=HTTP_LIMITS, timeout=60) as http:
            call = Api(http)

            players = await asyncio.gather(*(call("POST", "/api/players", body={"name": f"p{i}"})
                                             for i in range(2 * self.matches)))  # fmt: skip
            matches = await asyncio.gather(*(call("POST", "/api/matches", players[2 * m]["token"], {"game": "connect4"})
                                             for m in range(self.matches)))  # fmt: skip
            await asyncio.gather(*(call("POST", f"/api/matches/{match['id']}/join", players[2 * m + 1]["token"])
                                   for m, match in enumerate(matches)))  # fmt: skip

            async def open_socket(index: int, match_id: int, token: str | None) -> ClientConnection:
                query = ""
                if token:
                    query = f"?ticket={(await call('POST', '/api/tickets', token))['ticket']}"
                return await self._connect(self.ws_url(index, f"/ws/matches/{match_id}/{query}"))

            for m, match in enumerate(matches):
                # The match's two players on different processes when there are several.
                sockets = await asyncio.gather(
                    open_socket(0, match["id"], players[2 * m]["token"]),
                    open_socket(1, match["id"], players[2 * m + 1]["token"]),
                    *(open_socket(s, match["id"], None) for s in range(self.spectators)),
                )
                room = Room(key=str(match["id"]), players=list(sockets[:2]), watchers=list(sockets[2:]))
                for sock in room.sockets:  # the snapshot comes first
                    snapshot = json.loads(await sock.recv())
                    room.base_seq = snapshot["match"]["seq"]
                self.rooms.append(room)

    async def _read(self, room: Room, index: int, sock: ClientConnection) -> None:
        try:
            async for text in sock:
                now = time.perf_counter()
                message = json.loads(text)
                seq = message.get("seq")
                if seq is None or (self.kind == "project" and message.get("type") != "event"):
                    continue
                room.arrivals[seq].append(now)
                room.delivered += 1
                room.delivered_bytes += len(text) + 4  # a frame's header: 2 to 4 bytes
                room.arrived(index, seq).set()
        except Exception:
            return

    # --- moves ---------------------------------------------------------------

    def _move_text(self, room: Room, k: int, seq: int) -> str:
        if self.kind == "project":
            return json.dumps({"type": "move", "move": {"column": ORDER[k]}, "seq": seq - 1})
        return self.payload_template[:-1] + f', "seq": {seq}}}'

    async def _play(self, room: Room, moves: int, start: float, interval: float | None, deadline: float) -> None:
        offset = random.uniform(0, interval) if interval else 0.0
        for k in range(moves):
            seq = room.base_seq + k + 1
            mover = k % 2
            if interval is not None:
                due = start + offset + k * interval
                if due > deadline:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            elif time.perf_counter() > deadline:
                return
            if k > 0:  # the mover must have seen the previous move
                try:
                    await asyncio.wait_for(room.arrived(mover, seq - 1).wait(), timeout=30)
                except TimeoutError:
                    return
            room.scheduled[seq] = due if interval is not None else time.perf_counter()
            await room.players[mover].send(self._move_text(room, k, seq))

    async def run_moves(self, duration: float, interval: float | None) -> dict[str, Any]:
        """Play every room for ``duration`` seconds; ``interval`` seconds
        between a match's moves (open loop), or as fast as possible."""
        for room in self.rooms:
            room.scheduled.clear()
        start = time.perf_counter()
        deadline = start + duration
        await asyncio.gather(*(self._play(room, len(ORDER), start, interval, deadline) for room in self.rooms))
        await asyncio.sleep(1.0)  # let the last events land
        elapsed = max(time.perf_counter() - start - 1.0, 1e-9)
        latencies, complete, lost = [], 0, 0
        last_arrival = start
        for room in self.rooms:
            recipients = len(room.sockets)
            for seq, scheduled in room.scheduled.items():
                arrivals = room.arrivals.get(seq, [])
                if len(arrivals) >= recipients:
                    complete += 1
                    latencies.append(max(arrivals) - scheduled)
                    last_arrival = max(last_arrival, max(arrivals))
                else:
                    lost += 1
        span = (last_arrival - start) if interval is None else elapsed
        deliveries = sum(len(room.arrivals.get(seq, [])) for room in self.rooms for seq in room.scheduled)
        result = {
            "offered_moves_per_s": None if interval is None else round(len(self.rooms) / interval, 1),
            "moves": complete,
            "incomplete": lost,
            "moves_per_s": round(complete / span, 1) if span > 0 else 0.0,
            "deliveries_per_s": round(deliveries / span, 1) if span > 0 else 0.0,
            **{key: round(value, 2) for key, value in latency_summary(latencies).items()},
        }
        for room in self.rooms:  # the next run continues after these moves
            if room.scheduled:
                room.base_seq = max(room.scheduled)
        return result

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(sock.close() for room in self.rooms for sock in room.sockets), return_exceptions=True)
        await asyncio.gather(*self.readers, return_exceptions=True)


async def hold_connections(url: str, count: int, players: int | None = None) -> dict[str, Any]:
    """Open ``count`` authenticated match sockets (``players`` seated players,
    several tabs each: by default 20 each, under the per-player socket quota)
    and keep them; returns how many got their snapshot and the sockets, to be
    closed by the caller."""
    players = players or max(2, 2 * -(-count // 40))
    async with httpx.AsyncClient(base_url=url, limits=HTTP_LIMITS, timeout=120) as http:
        call = Api(http)

        people = await asyncio.gather(*(call("POST", "/api/players", body={"name": f"c{i}"}) for i in range(players)))
        match_ids = []
        for i in range(0, players, 2):
            match = await call("POST", "/api/matches", people[i]["token"], {"game": "tictactoe"})
            await call("POST", f"/api/matches/{match['id']}/join", people[i + 1]["token"])
            match_ids.append(match["id"])
        open_sem = asyncio.Semaphore(64)

        async def open_one(n: int) -> ClientConnection | None:
            person = people[n % players]
            async with open_sem:
                ticket = (await call("POST", "/api/tickets", person["token"]))["ticket"]
                try:
                    path = f"/ws/matches/{match_ids[(n % players) // 2]}/?ticket={ticket}"
                    sock = await connect(url.replace("http", "ws") + path, ping_interval=None, open_timeout=60)
                    first = json.loads(await asyncio.wait_for(sock.recv(), timeout=60))
                except Exception:
                    return None
            return sock if first.get("type") == "snapshot" else None

        sockets = await asyncio.gather(*(open_one(n) for n in range(count)))
    held = [sock for sock in sockets if sock is not None]
    return {"requested": count, "held": len(held), "sockets": held}


def poll_mode(period: float) -> str:
    return f"poll every {period:g} s"


async def polling_versus_sockets(
    url: str, matches: int, periods: tuple[float, ...], move_every: float, duration: float, idle: float
) -> dict:
    """The same matches followed by pollers (one per period) and by sockets.
    Moves are made over HTTP so every follower sees the same thing."""
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, limits=HTTP_LIMITS, timeout=60) as http:
        call = Api(http)

        pairs, ids = [], []
        for m in range(matches):
            a = await call("POST", "/api/players", body={"name": f"a{m}"})
            b = await call("POST", "/api/players", body={"name": f"b{m}"})
            match = await call("POST", "/api/matches", a["token"], {"game": "connect4"})
            await call("POST", f"/api/matches/{match['id']}/join", b["token"])
            pairs.append((a["token"], b["token"]))
            ids.append(match["id"])
        sent: dict[tuple[int, int], float] = {}
        seen: dict[str, list[float]] = defaultdict(list)
        bytes_in: dict[str, int] = defaultdict(int)
        requests: dict[str, int] = defaultdict(int)
        counting = {"on": True, "bytes": True}
        stop = asyncio.Event()

        async def poller(match_id: int, period: float, name: str) -> None:
            after = 2
            request_bytes = len(f"GET /api/matches/{match_id}/events?after=NN HTTP/1.1\r\n") + 60
            async with httpx.AsyncClient(base_url=url, timeout=30) as own:
                await asyncio.sleep(random.uniform(0, period))
                while not stop.is_set():
                    response = await own.get(f"/api/matches/{match_id}/events", params={"after": after})
                    now = time.perf_counter()
                    headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 17
                    if counting["on"]:
                        requests[name] += 1
                    if counting["bytes"]:
                        bytes_in[name] += len(response.content) + headers + request_bytes
                    for event in response.json()["events"]:
                        if (match_id, event["seq"]) in sent:
                            seen[name].append(now - sent[(match_id, event["seq"])])
                    after = response.json()["seq"]
                    await asyncio.sleep(period)

        async def watcher(match_id: int) -> None:
            async with connect(url.replace("http", "ws") + f"/ws/matches/{match_id}/", ping_interval=None) as sock:
                async for text in sock:
                    now = time.perf_counter()
                    message = json.loads(text)
                    bytes_in["socket"] += len(text) + 4
                    if message.get("type") == "event" and (match_id, message["seq"]) in sent:
                        seen["socket"].append(now - sent[(match_id, message["seq"])])

        tasks = [asyncio.create_task(watcher(i)) for i in ids]
        tasks += [asyncio.create_task(poller(i, period, poll_mode(period))) for i in ids for period in periods]
        await asyncio.sleep(1)

        async def mover(m: int) -> None:
            await asyncio.sleep(random.uniform(0, move_every))
            for k in range(min(len(ORDER), int(duration / move_every))):
                token = pairs[m][k % 2]
                seq = 3 + k
                sent[(ids[m], seq)] = time.perf_counter()
                await call("POST", f"/api/matches/{ids[m]}/moves", token, {"move": {"column": ORDER[k]}})
                await asyncio.sleep(move_every)

        await asyncio.gather(*(mover(m) for m in range(matches)))
        await asyncio.sleep(max(periods) + 1)  # the slowest poller catches up
        counting["bytes"] = False
        moves = len(sent)
        # Idle: nothing happens; what does each way of following cost the server?
        for name in list(requests):
            requests[name] = 0
        await asyncio.sleep(idle)
        counting["on"] = False
        idle_requests = dict(requests)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    results["modes"] = ["socket", *(poll_mode(period) for period in periods)]
    for name in results["modes"]:
        latencies = seen.get(name, [])
        results[name] = {
            **{key: round(value, 1) for key, value in latency_summary(latencies).items()},
            "deliveries": len(latencies),
            "bytes_per_delivered_move": round(bytes_in[name] / max(1, len(latencies))),
            "idle_requests_per_s": round(idle_requests.get(name, 0) / idle, 2),
        }
    results["moves"] = moves
    results["followers_per_mode"] = matches
    return results
