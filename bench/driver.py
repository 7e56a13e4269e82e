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
import functools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.wire import http_exchange_bytes, ws_frame_bytes

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

    def __init__(self, kind: str, urls: list[str], matches: int, spectators: int, protocol: int = 2) -> None:
        """``protocol``: what the project's sockets ask for (2, as the bundled
        client does; 1 for a version of the project from before protocol 2)."""
        self.kind, self.urls, self.matches, self.spectators = kind, urls, matches, spectators
        self.protocol = protocol
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
                query = f"?protocol={self.protocol}"
                if token:
                    query += f"&ticket={(await call('POST', '/api/tickets', token))['ticket']}"
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


def socket_mode(protocol: int, compressed: bool = False) -> str:
    return f"socket (protocol {protocol}{', compression offered' if compressed else ''})"


class CountingConnection(ClientConnection):
    """A client socket that counts every byte it receives off the wire, as
    sent (compressed frames included), after the handshake."""

    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


@functools.cache
def chess_line(plies: int, seed: int = 11) -> tuple[str, ...]:
    """A legal chess game of ``plies`` UCI moves, the same on every run:
    random legal moves from a fixed seed, never one that ends the game
    (checkmate, stalemate, insufficient material, fivefold repetition, the
    75-move rule), so a match sustains every one of them."""
    import chess

    for attempt in range(seed, seed + 100):
        rng, board, line = random.Random(attempt), chess.Board(), []
        while len(line) < plies:
            going_on = []
            for move in board.legal_moves:
                board.push(move)
                if board.outcome(claim_draw=False) is None:
                    going_on.append(move)
                board.pop()
            if not going_on:
                break  # every move ends the game: another seed
            move = rng.choice(going_on)
            line.append(move.uci())
            board.push(move)
        else:
            return tuple(line)
    raise RuntimeError(f"no chess line of {plies} plies from seeds {seed} to {seed + 99}")


def game_line(game: str, plies: int) -> list[dict[str, Any]]:
    """The moves a benchmark match of ``game`` is played along."""
    if game == "connect4":
        return [{"column": column} for column in ORDER]
    if game == "chess":
        return [{"uci": uci} for uci in chess_line(max(140, plies))]
    raise ValueError(f"no move sequence for {game!r}")


async def polling_versus_sockets(
    url: str,
    matches: int,
    periods: tuple[float, ...],
    move_every: float,
    duration: float,
    idle: float,
    game: str = "connect4",
    prelude: int = 0,
    protocols: tuple[int, ...] = (1,),
    compressed: tuple[int, ...] = (),
) -> dict:
    """The same matches followed at once by a socket per protocol and a
    poller per period. Each match first gets ``prelude`` plies over HTTP with
    nobody following; then the followers attach and the measured moves
    follow, one every ``move_every`` seconds, over HTTP so every follower sees
    the same thing.

    Bytes are exact application-layer bytes (``bench.wire``), received and,
    for polls, sent, counted in steady state: per follower, from one move
    interval before its match's first measured move (by then every follower
    holds its starting point, the socket's snapshot or the poller's first
    answer, which is not charged) up to the frame or poll that delivered the
    match's last measured move, idle polls in between included."""
    line = game_line(game, prelude + int(duration / move_every))
    measured = min(int(duration / move_every), len(line) - prelude)
    if measured < 1:
        raise ValueError(f"{game}: {len(line)} moves leave none to measure after a prelude of {prelude}")
    sockets = [(protocol, False) for protocol in protocols] + [(protocol, True) for protocol in compressed]
    socket_modes = [socket_mode(protocol, deflate) for protocol, deflate in sockets]
    modes = [*socket_modes, *(poll_mode(period) for period in periods)]
    sent: dict[tuple[int, int], float] = {}  # (match, seq) -> when its move was sent
    seen: dict[str, list[float]] = defaultdict(list)  # mode -> latency of each delivered move
    # (mode, match) -> one (when, bytes, highest event seq delivered or 0) per frame or poll
    exchanges: dict[tuple[str, int], list[tuple[float, int, int]]] = defaultdict(list)
    base: dict[int, int] = {}  # match -> its seq when the followers attach
    opened: dict[int, float] = {}  # match -> start of its byte count
    last_sent: dict[int, int] = {}  # match -> seq of its last measured move
    pending = [matches * len(modes)]
    idle_start = idle_end = 0.0
    ready, stop = asyncio.Event(), asyncio.Event()
    if not pending[0]:  # nobody to wait for
        ready.set()

    def holds_starting_point() -> None:
        pending[0] -= 1
        if pending[0] == 0:
            ready.set()

    async with httpx.AsyncClient(base_url=url, limits=HTTP_LIMITS, timeout=60) as http:
        call = Api(http)

        async def act(match_id: int, token: str, move: dict[str, Any]) -> dict:
            """A move over HTTP, waiting out the per-player action limit."""
            for _ in range(5):
                try:
                    return await call("POST", f"/api/matches/{match_id}/moves", token, {"move": move})
                except httpx.HTTPStatusError as exc:
                    if exc.response.status_code != 429:
                        raise
                    await asyncio.sleep(float(exc.response.headers.get("Retry-After", "1")))
            return await call("POST", f"/api/matches/{match_id}/moves", token, {"move": move})

        async def open_match(m: int) -> tuple[int, tuple[str, str]]:
            a = await call("POST", "/api/players", body={"name": f"a{m}"})
            b = await call("POST", "/api/players", body={"name": f"b{m}"})
            match = await call("POST", "/api/matches", a["token"], {"game": game})
            match = await call("POST", f"/api/matches/{match['id']}/join", b["token"])
            tokens = (a["token"], b["token"])
            for ply in range(prelude):  # 40 plies/s at most: 20 actions/s per player, under 30
                match = await act(match["id"], tokens[ply % 2], line[ply])
                await asyncio.sleep(0.025)
            base[match["id"]] = match["seq"]
            return match["id"], tokens

        opened_matches = await asyncio.gather(*(open_match(m) for m in range(matches)))
        ids = [match_id for match_id, _ in opened_matches]
        pairs = [tokens for _, tokens in opened_matches]

        async def poller(match_id: int, period: float, name: str) -> None:
            after, log, first = base[match_id], exchanges[(name, match_id)], True
            async with httpx.AsyncClient(base_url=url, timeout=30) as own:
                while not stop.is_set():
                    response = await own.get(f"/api/matches/{match_id}/events", params={"after": after})
                    now = time.perf_counter()
                    response.raise_for_status()
                    answer, top = response.json(), 0
                    for event in answer["events"]:
                        if (match_id, event["seq"]) in sent:
                            seen[name].append(now - sent[(match_id, event["seq"])])
                        top = max(top, event["seq"])
                    log.append((now, http_exchange_bytes(response), top))
                    after = answer["seq"]
                    if first:  # the starting point; the pollers' phases spread over the period
                        first = False
                        holds_starting_point()
                        await asyncio.sleep(random.uniform(0, period))
                    else:
                        await asyncio.sleep(period)

        async def watcher(match_id: int, protocol: int, deflate: bool, name: str) -> None:
            query = "" if protocol == 1 else f"?protocol={protocol}"
            path = f"/ws/matches/{match_id}/{query}"
            log = exchanges[(name, match_id)]
            # Without compression a frame's bytes are its text's (bench.wire); with it offered (as
            # browsers do), whatever the server answers, the bytes counted off the socket.
            async with connect(url.replace("http", "ws") + path, ping_interval=None,
                               compression="deflate" if deflate else None,
                               create_connection=CountingConnection) as sock:  # fmt: skip
                snapshot = json.loads(await sock.recv())  # the starting point, not charged
                if snapshot.get("type") != "snapshot":
                    raise RuntimeError(f"{name}: the first frame is {snapshot.get('type')!r}, not a snapshot")
                holds_starting_point()
                counted = sock.received
                async for text in sock:
                    now = time.perf_counter()
                    message, seq = json.loads(text), 0
                    if message.get("type") == "event":
                        seq = message["seq"]
                        if (match_id, seq) in sent:
                            seen[name].append(now - sent[(match_id, seq)])
                    wire, counted = sock.received - counted, sock.received
                    log.append((now, wire if deflate else ws_frame_bytes(text), seq))

        async def follow(tasks: list[asyncio.Task]) -> None:
            nonlocal idle_start, idle_end
            try:
                await asyncio.wait_for(ready.wait(), timeout=60)
            except TimeoutError:
                failed = [task.exception() for task in tasks if task.done() and task.exception()]
                raise RuntimeError(f"followers did not all attach: {failed[:3]}") from None
            start = time.perf_counter()
            for match_id in ids:  # the matches' moves spread over one interval
                opened[match_id] = start + random.uniform(0, move_every)

            async def mover(m: int) -> None:
                match_id = ids[m]
                for k in range(measured):
                    await asyncio.sleep(max(0.0, opened[match_id] + (k + 1) * move_every - time.perf_counter()))
                    ply, seq = prelude + k, base[match_id] + k + 1
                    sent[(match_id, seq)] = time.perf_counter()
                    answer = await act(match_id, pairs[m][ply % 2], line[ply])
                    if answer["seq"] != seq:
                        raise RuntimeError(f"match {match_id}: move {ply} got seq {answer['seq']}, not {seq}")
                    last_sent[match_id] = seq

            await asyncio.gather(*(mover(m) for m in range(matches)))
            # The slowest poller catches up: every follower holds its match's last move.
            catch_up = time.perf_counter() + max(periods, default=0.0) + 2
            while time.perf_counter() < catch_up and not all(
                any(top >= last_sent[i] for _, _, top in exchanges[(name, i)]) for name in modes for i in ids
            ):
                await asyncio.sleep(0.1)
            # Idle: nothing happens; what does each way of following cost the server?
            idle_start = time.perf_counter()
            await asyncio.sleep(idle)
            idle_end = time.perf_counter()

        tasks = [asyncio.create_task(watcher(i, p, z, socket_mode(p, z))) for i in ids for p, z in sockets]
        tasks += [asyncio.create_task(poller(i, period, poll_mode(period))) for i in ids for period in periods]
        try:
            await follow(tasks)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [outcome for outcome in outcomes if isinstance(outcome, Exception)]  # not the cancellations
    if failed:
        raise RuntimeError(f"{len(failed)} follower(s) failed, the figures would be short: {failed[:3]}")

    results: dict[str, Any] = {"game": game, "prelude": prelude, "modes": modes}
    for name in modes:
        charged = idle_requests = 0
        for match_id in ids:
            for when, size, top in exchanges[(name, match_id)]:
                if opened[match_id] <= when <= idle_start:
                    charged += size
                    if top >= last_sent[match_id]:
                        break
            if name not in socket_modes:
                idle_requests += sum(idle_start <= when < idle_end for when, _, _ in exchanges[(name, match_id)])
        latencies = seen.get(name, [])
        results[name] = {
            **{key: round(value, 1) for key, value in latency_summary(latencies).items()},
            "deliveries": len(latencies),
            "bytes_per_delivered_move": round(charged / max(1, len(latencies))),
            "idle_requests_per_s": round(idle_requests / idle, 2),
        }
    results["moves"] = len(sent)
    results["followers_per_mode"] = matches
    return results
