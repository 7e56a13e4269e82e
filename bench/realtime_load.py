"""Real-time matches under load (``python manage.py benchrealtime``, issue 14).

Light cycles (20 Hz, a frame every tick) on the shipped configuration: daphne,
the Redis core layer, a fresh PostgreSQL database. Every client socket is held
by this process, so every time below is read off one clock. Four figures:

1. **Tick punctuality.** One daphne process, which owns every match (its
   supervisor is the only one: no worker, ``GAMES_REALTIME_IN_PROCESS=1``),
   runs N match *slots* of 4 players and 1 spectator each (5 sockets a
   match). A slot plays its match to the end and then starts a new one with
   the same players, so about N matches tick at any time. N grows through
   ``sweep`` (the slots of a step stay for the next one); at each step, over
   ``window`` seconds: the server's ``games_realtime_tick_lateness_seconds``
   histogram (scraped from its ``/metrics`` before and after: p50, p99,
   the share of ticks under 5 ms) and its process CPU per tick per match
   (CPU seconds / match-ticks run, the histogram's count). The sweep stops
   after the first step whose p99 is 5 ms or more, once it has measured the
   ``moderate`` N. A second configuration (``loops``: "worker") sweeps the
   same way with daphne holding every socket but running no loop
   (``GAMES_REALTIME_IN_PROCESS=0``) and one worker (``manage.py runclock
   --metrics-port P``) owning every match: the lateness is scraped from the
   worker's metrics port, the CPU per tick per match given for each process.
2. **Input to every screen.** Each player turns every ``turn_min`` to
   ``turn_max`` seconds (a perpendicular way with room, from the state the
   client tracks by applying the frames) and, in between, when the way ahead
   is blocked or crossed, swerves (looking ``AHEAD`` ticks ahead); at most one
   input of a seat is in flight, sent at a random moment within a tick. An
   input's latency runs from just before it is sent to the moment the last
   of its match's 5 sockets holds the ``tick`` frame whose ``applied`` lists
   it. The loopback baseline is the round trip of a
   WebSocket ping to the same daphne (answered by its protocol layer, not the
   application), measured on the same sockets in the same window.
3. **Failover.** Two daphne processes; a new match of 2 players and a
   spectator, its sockets on the process that does not own it (read from
   ``MatchLease.owner``, ``host:pid:token``); once it ticks, SIGKILL of the
   owner; the time to the first ``tick`` frame of the new owner (a higher
   ``epoch``) at those sockets (the server first sends each a new snapshot:
   its time is kept too). New processes for each run.
4. **Bytes per second per player.** The WebSocket payload bytes a player's
   socket receives during play (from its first tick frame to its last one in
   the window), by frame type, at the moderate N with 4 players and in a run
   of its own with 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg
from websockets.asyncio.client import ClientConnection, connect

from bench import cpu
from bench.driver import HTTP_LIMITS, Api, percentile
from bench.report import machine, write_between_markers
from bench.servers import ROOT, Config, Running, bench_database, command_env, free_port, running, stop_process
from bench.webhooks_load import cpu_seconds, machine_busy_seconds
from lightcycles.rules import ROOM, STEPS, LightCycles, apply_frame, free, room, turns

START = "<!-- figures: benchrealtime writes between these markers -->"
END = "<!-- end of the benchrealtime figures -->"
HEADING = "## Real-time matches (`python manage.py benchrealtime`)"
METRICS_TOKEN = "bench-metrics"
LATENESS = "games_realtime_tick_lateness_seconds"
TICK_SECONDS = LightCycles.tick_ms / 1000
PUNCTUAL_MS = 5.0  # the target: p99 tick lateness under this
SCREENS_TARGET_MS = 1.5 * LightCycles.tick_ms  # plus the loopback time
FAILOVER_TARGET_S = 2.0
LOST_AFTER = 2.0  # seconds after which an input not seen applied is given up
SETTLE_SECONDS = 1.0  # after a window, for the last inputs' frames to land
PING_EVERY = 0.05  # seconds between two loopback pings (each on the next socket)
AHEAD = 5  # ticks a player looks ahead

Progress = Callable[[str], None]
# Where figure 1's match loops run: "web", the daphne process that holds the sockets
# (GAMES_REALTIME_IN_PROCESS=1, no worker); "worker", a `manage.py runclock` process
# beside it (GAMES_REALTIME_IN_PROCESS=0 on daphne), frames reaching the sockets
# through the channel layer.
LOOPS = ("web", "worker")
LOOPS_LABEL = {"web": "loops in the web process", "worker": "loops in the worker"}


@dataclass
class Options:
    sweep: tuple[int, ...] = (1, 2, 3, 4, 5, 10, 20, 40, 80)
    moderate: int = 10  # the N whose input latency and bytes are reported beside the largest
    window: float = 10.0  # seconds measured at each step
    warm_up: float = 5.0  # seconds after a step's new slots are set up, before its window
    turn_min: float = 0.5
    turn_max: float = 1.0
    size: int = 64
    two_player_matches: int = 0  # the 2-player run (bytes per second); 0: the largest N the sweep held
    failovers: int = 10
    start_delay_ms: int | None = None  # None: the game's own countdown (3 s)
    postgres_url: str = Config.postgres_url
    redis_url: str = Config.redis_url
    loops: tuple[str, ...] = LOOPS  # the configurations of figure 1, in order
    quick: bool = False


def quick_options(options: Options) -> Options:
    """A run that only shows the tool works (well under a minute)."""
    return replace(options, sweep=(2,), moderate=2, window=3.0, warm_up=1.0, two_player_matches=2, failovers=1,
                   start_delay_ms=1000, quick=True)  # fmt: skip


# --- the server's metrics ------------------------------------------------------------


def parse_histogram(text: str, name: str = LATENESS) -> dict[float, float]:
    """The cumulative bucket counts of a Prometheus histogram, by upper bound
    (``inf`` for +Inf), summed over its label sets."""
    buckets: dict[float, float] = defaultdict(float)
    prefix = f"{name}_bucket{{"
    for line in text.splitlines():
        if line.startswith(prefix):
            labels, value = line[len(prefix) :].rsplit("}", 1)
            bound = next(part.split("=", 1)[1].strip('"') for part in labels.split(",") if part.startswith("le="))
            buckets[math.inf if bound == "+Inf" else float(bound)] += float(value)
    return dict(buckets)


def bucket_delta(before: dict[float, float], after: dict[float, float]) -> dict[float, float]:
    return {bound: after[bound] - before.get(bound, 0.0) for bound in after}


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """``histogram_quantile``: the q-quantile of cumulative buckets, by linear
    interpolation inside the bucket it falls in (seconds; None for no values)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if bound == math.inf:
                return lower  # beyond the largest finite bound: that bound is all we know
            inside = buckets[bound] - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, buckets[bound]
    return lower


def lateness_summary(buckets: dict[float, float]) -> dict[str, Any]:
    total = buckets.get(math.inf, 0.0)
    under = buckets.get(PUNCTUAL_MS / 1000)
    p50, p99 = quantile(buckets, 0.5), quantile(buckets, 0.99)
    return {
        "ticks": int(total),
        "p50_ms": None if p50 is None else round(p50 * 1000, 2),
        "p99_ms": None if p99 is None else round(p99 * 1000, 2),
        "share_under_5ms": None if not total or under is None else round(under / total, 4),
        "over_50ms": int(total - buckets.get(0.05, total)),
        "bounds_ms": [round(b * 1000, 2) for b in sorted(buckets) if b != math.inf],
    }


async def scrape(url: str) -> dict[float, float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    response.raise_for_status()
    return parse_histogram(response.text)


# --- the clients ---------------------------------------------------------------------


@dataclass
class Sent:
    """One input: who sent it, when, and when each of its match's sockets held its frame."""

    seat: int
    direction: str
    at: float
    tick: int | None = None
    arrivals: dict[int, float] = field(default_factory=dict)
    refused: str = ""


@dataclass
class Screen:
    """One client socket and what it received."""

    index: int
    seat: int | None
    sock: ClientConnection
    opened: float
    bytes_by_type: Counter[str] = field(default_factory=Counter)
    frames_by_type: Counter[str] = field(default_factory=Counter)
    log: list[tuple[float, str, int]] = field(default_factory=list)  # (when, type, payload bytes)
    first_new_epoch_tick: float | None = None
    first_new_epoch_snapshot: float | None = None


class Collector:
    """Everything the clients saw, across matches."""

    def __init__(self) -> None:
        self.inputs: list[tuple[int, Sent]] = []  # (recipients, input)
        self.screens: list[tuple[int, Screen]] = []  # (players in its match, screen)
        self.pings: list[tuple[float, float]] = []  # (when, round trip seconds)
        self.errors: Counter[str] = Counter()
        self.matches_started = 0
        self.matches_ended = 0
        self.match_ticks: list[int] = []  # how many ticks each match that ended was played


def ended(event: dict[str, Any]) -> bool:
    """Whether an ``event`` frame (a whole match, or protocol 2's patch) ends the match."""
    if "match" in event:
        return event["match"]["status"] in ("finished", "aborted")
    return any(path == "/status" and value in ("finished", "aborted") for path, value in event.get("patch", []))


class Play:
    """One match, as its players and spectator see it, played by the players."""

    game = LightCycles()

    def __init__(self, match_id: int, players: int, collector: Collector, options: Options) -> None:
        self.match_id, self.players, self.collector, self.options = match_id, players, collector, options
        self.screens: list[Screen] = []
        self.state: dict[str, Any] | None = None
        self.pending: dict[int, Sent] = {}
        self.by_tick: dict[tuple[int, int], Sent] = {}
        self.next_turn: dict[int, float] = {}
        self.refs: dict[str, Sent] = {}
        self.rng = random.Random(match_id)
        self.epoch = 0
        self.first_epoch = 0
        self.last_tick_at = time.perf_counter()
        self.over = asyncio.Event()
        self.readers: list[asyncio.Task[None]] = []
        self.sending: set[asyncio.Future[None]] = set()
        self.counter = itertools.count()

    @property
    def tracker(self) -> Screen:
        return self.screens[-1]  # the spectator's socket: the state the players steer by

    def start(self) -> None:
        for screen in self.screens:
            self.readers.append(asyncio.create_task(self.read(screen)))

    async def read(self, screen: Screen) -> None:
        try:
            async for text in screen.sock:
                now = time.perf_counter()
                size = len(text.encode()) if isinstance(text, str) else len(text)
                message = json.loads(text)
                kind = message.get("type", "?")
                screen.bytes_by_type[kind] += size
                screen.frames_by_type[kind] += 1
                screen.log.append((now, kind, size))
                if kind == "tick":
                    await self.on_tick(screen, message, now)
                elif kind == "snapshot":
                    self.on_snapshot(screen, message, now)
                elif kind == "error":
                    self.on_error(message)
                elif kind == "event" and ended(message):
                    self.over.set()
        except Exception as problem:  # the socket closed, or a bug: counted, never silent
            if not isinstance(problem, asyncio.CancelledError) and not self.over.is_set():
                self.collector.errors[f"reader: {type(problem).__name__}"] += 1
        finally:
            if screen is self.tracker:
                self.over.set()

    def on_snapshot(self, screen: Screen, message: dict[str, Any], now: float) -> None:
        realtime = message.get("realtime") or {}
        epoch = realtime.get("epoch", 0)
        if self.first_epoch and epoch > self.first_epoch and screen.first_new_epoch_snapshot is None:
            screen.first_new_epoch_snapshot = now
        if screen is self.tracker:
            self.state = message["match"]["state"]
            self.epoch = max(self.epoch, epoch)

    def on_error(self, message: dict[str, Any]) -> None:
        code = (message.get("error") or {}).get("code") or message.get("code") or "?"
        sent = self.refs.get(str(message.get("ref")))
        self.collector.errors[f"refused: {code}"] += 1
        if sent is not None:
            sent.refused = code
            if self.pending.get(sent.seat) is sent:
                del self.pending[sent.seat]

    async def on_tick(self, screen: Screen, message: dict[str, Any], now: float) -> None:
        tick, epoch = message["tick"], message["epoch"]
        if not self.first_epoch:
            self.first_epoch = epoch
        elif epoch > self.first_epoch and screen.first_new_epoch_tick is None:
            screen.first_new_epoch_tick = now
        for seat, _ in message.get("applied", ()):
            sent = self.by_tick.get((seat, tick))
            if sent is None:
                sent = self.pending.pop(seat, None)
                if sent is None:
                    continue
                sent.tick = tick
                self.by_tick[(seat, tick)] = sent
            sent.arrivals[screen.index] = now
        if screen is not self.tracker:
            return
        self.last_tick_at = now
        if self.state is None or tick <= self.state["tick"]:
            return
        if message.get("since", self.state["tick"]) != self.state["tick"]:
            # Frames were lost on the way: a snapshot, as any client does.
            self.collector.errors["tick frames lost (resynced)"] += 1
            self.state = None
            await screen.sock.send(json.dumps({"type": "resync"}))
            return
        self.state = apply_frame(self.state, message["frame"])
        self.epoch = max(self.epoch, epoch)
        alive = [seat for seat, cycle in enumerate(self.state["cycles"]) if cycle["alive"]]
        if len(alive) <= 1:
            self.over.set()
            return
        self.steer(alive, now)

    def steer(self, alive: list[int], now: float) -> None:
        """Each live seat with no input in flight: a turn when its next one is
        due, else a swerve when the way ahead is blocked or crossed."""
        assert self.state is not None
        for seat in alive:
            sent = self.pending.get(seat)
            if sent is not None:
                if now - sent.at < LOST_AFTER:
                    continue
                del self.pending[seat]  # lost: never applied nor refused
            due = self.next_turn.setdefault(seat, now + self.rng.uniform(0, self.options.turn_max))
            wanted = now >= due
            if wanted:
                self.next_turn[seat] = now + self.rng.uniform(self.options.turn_min, self.options.turn_max)
            direction = self.choose(seat, wanted)
            if direction is not None:
                self.schedule(seat, direction)

    def choose(self, seat: int, turn: bool) -> str | None:
        """The way for ``seat`` (None: straight on). Straight on while the next
        ``AHEAD`` cells are free and off the other heads' straight paths,
        unless a turn is wanted; else the best of the three ways: safe, clear,
        roomy (``room``, the game's bounded flood fill), a turn if wanted.
        Inputs take a tick or two to apply, hence the look ahead (the
        game's ``bot_input`` looks one step ahead: too short here)."""
        assert self.state is not None
        cycle, grid = self.state["cycles"][seat], self.state["grid"]
        heading, x, y = cycle["dir"], cycle["x"], cycle["y"]
        crossed = self.crossed(seat)
        if not turn and self.path_ok(grid, x, y, heading, crossed):
            return None
        scored = []
        for way in (heading, *(way for way in STEPS if turns(heading, way))):
            dx, dy = STEPS[way]
            if not free(grid, x + dx, y + dy):
                continue
            safe = self.path_ok(grid, x, y, way, crossed)
            clear = sum(1 for k in range(1, AHEAD + 1) if free(grid, x + k * dx, y + k * dy))
            space = room(grid, x + dx, y + dy)
            prefer = way != heading if turn else way == heading
            scored.append((safe and space >= ROOM, safe, clear, space, prefer, self.rng.random(), way))
        if not scored:
            return None
        best = max(scored)[-1]
        return None if best == heading else best

    def crossed(self, seat: int) -> set[tuple[int, int]]:
        """The cells the other live heads reach going straight for ``AHEAD`` ticks, and their neighbours."""
        assert self.state is not None
        cells: set[tuple[int, int]] = set()
        for other, them in enumerate(self.state["cycles"]):
            if other == seat or not them["alive"]:
                continue
            dx, dy = STEPS[them["dir"]]
            for k in range(1, AHEAD + 1):
                cx, cy = them["x"] + k * dx, them["y"] + k * dy
                cells.update((cx + ex, cy + ey) for ex, ey in ((0, 0), *STEPS.values()))
        return cells

    @staticmethod
    def path_ok(grid: list[str], x: int, y: int, way: str, crossed: set[tuple[int, int]]) -> bool:
        dx, dy = STEPS[way]
        cells = [(x + k * dx, y + k * dy) for k in range(1, AHEAD + 1)]
        return all(free(grid, cx, cy) and (cx, cy) not in crossed for cx, cy in cells)

    def schedule(self, seat: int, direction: str) -> None:
        """Send the input a random moment within the next tick: a player's
        key press is not in step with the frames (sent at once, every input
        would wait a whole tick for the next one)."""
        sent = Sent(seat, direction, math.inf)
        self.pending[seat] = sent
        delay = self.rng.uniform(0, TICK_SECONDS)
        asyncio.get_running_loop().call_later(delay, self._start_sending, sent)

    def _start_sending(self, sent: Sent) -> None:
        task = asyncio.ensure_future(self.send(sent))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def send(self, sent: Sent) -> None:
        if self.over.is_set() or self.state is None:
            return
        ref = f"{self.match_id}.{next(self.counter)}"
        self.refs[ref] = sent
        text = json.dumps({"type": "input", "input": {"dir": sent.direction}, "ref": ref, "tick": self.state["tick"]})
        sent.at = time.perf_counter()
        self.collector.inputs.append((len(self.screens), sent))
        try:
            await self.screens[sent.seat].sock.send(text)
        except Exception:
            self.collector.errors["send failed"] += 1

    async def close(self) -> None:
        await asyncio.gather(*(screen.sock.close() for screen in self.screens), return_exceptions=True)
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


class Clients:
    """The benchmark's players: HTTP for accounts and matches, sockets for play."""

    def __init__(self, http_url: str, options: Options, collector: Collector) -> None:
        self.http_url, self.options, self.collector = http_url, options, collector
        self.http = httpx.AsyncClient(base_url=http_url, limits=HTTP_LIMITS, timeout=60)
        self.call = Api(self.http, concurrency=16)
        self.names = itertools.count()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def players(self, count: int) -> list[str]:
        made = await asyncio.gather(
            *(self.call("POST", "/api/players", body={"name": f"rt{next(self.names)}"}) for _ in range(count))
        )
        return [player["token"] for player in made]

    async def new_match(self, tokens: list[str], join_url: str | None = None) -> int:
        """A match of ``len(tokens)`` seats, full (so active): the last join
        through ``join_url`` when given (that process takes its lease first)."""
        body = {"game": "lightcycles", "options": {"size": self.options.size}, "seats": len(tokens)}
        match = await self.call("POST", "/api/matches", tokens[0], body)
        for token in tokens[1:-1]:
            await self.call("POST", f"/api/matches/{match['id']}/join", token)
        if join_url is None:
            await self.call("POST", f"/api/matches/{match['id']}/join", tokens[-1])
        else:
            async with httpx.AsyncClient(base_url=join_url, timeout=60) as other:
                await Api(other)("POST", f"/api/matches/{match['id']}/join", tokens[-1])
        self.collector.matches_started += 1
        return int(match["id"])

    async def open_play(self, match_id: int, tokens: list[str], ws_url: str) -> Play:
        """The match's sockets (its players', then a spectator's), each past its snapshot."""
        play = Play(match_id, len(tokens), self.collector, self.options)

        async def open_one(index: int, token: str | None) -> Screen:
            query = "?protocol=2"
            if token:
                query += f"&ticket={(await self.call('POST', '/api/tickets', token))['ticket']}"
            sock = await connect(f"{ws_url}/ws/matches/{match_id}/{query}", max_size=2**22, ping_interval=None,
                                 open_timeout=60, close_timeout=1)  # fmt: skip
            return Screen(index, index if token else None, sock, time.perf_counter())

        play.screens = list(await asyncio.gather(*(open_one(i, t) for i, t in enumerate([*tokens, None]))))
        play.start()
        for screen in play.screens:
            self.collector.screens.append((len(tokens), screen))
        return play


class Slot:
    """A match after match with the same players, until stopped."""

    def __init__(self, clients: Clients, tokens: list[str], url: str) -> None:
        self.clients, self.tokens, self.url = clients, tokens, url
        self.play: Play | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()

    async def run(self) -> None:
        ws_url = self.url.replace("http", "ws")
        while not self.stopping.is_set():
            try:
                match_id = await self.clients.new_match(self.tokens)
                self.play = await self.clients.open_play(match_id, self.tokens, ws_url)
            except Exception as problem:
                self.clients.collector.errors[f"setup: {type(problem).__name__}"] += 1
                self.ready.set()
                await asyncio.sleep(1.0)
                continue
            self.ready.set()
            await self.watch(self.play)
            if self.play.state is not None and self.play.over.is_set() and not self.stopping.is_set():
                self.clients.collector.match_ticks.append(self.play.state["tick"])
            await self.play.close()
            self.clients.collector.matches_ended += 1

    async def watch(self, play: Play) -> None:
        """Until the match is over, stalled (no frame for 10 s) or the slot stops."""
        while not (play.over.is_set() or self.stopping.is_set()):
            if time.perf_counter() - play.last_tick_at > 10 + (self.clients.options.start_delay_ms or 3000) / 1000:
                self.clients.collector.errors["a match stalled"] += 1
                return
            await asyncio.sleep(0.25)


async def ping_loop(slots: list[Slot], collector: Collector, stop: asyncio.Event) -> None:
    """A WebSocket ping every ``PING_EVERY`` s, each on the next spectator socket: the loopback baseline."""
    for index in itertools.count():
        if stop.is_set():
            return
        live = [slot.play for slot in slots if slot.play is not None and not slot.play.over.is_set()]
        if live:
            sock = live[index % len(live)].tracker.sock
            try:
                begun = time.perf_counter()
                waiter = await sock.ping()
                await asyncio.wait_for(waiter, timeout=5)
                collector.pings.append((begun, time.perf_counter() - begun))
            except Exception:
                pass
        await asyncio.sleep(PING_EVERY)


# --- the figures of one window ---------------------------------------------------------------


def summary_ms(values: list[float]) -> dict[str, float | None]:
    ms = [value * 1000 for value in values]
    return {
        "p50_ms": round(percentile(ms, 50), 1) if ms else None,
        "p99_ms": round(percentile(ms, 99), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
    }


def input_figures(collector: Collector, begin: float, end: float) -> dict[str, Any]:
    """The inputs sent inside the window: how many reached all their
    recipients, and the latency to the last of them."""
    chosen = [(recipients, sent) for recipients, sent in collector.inputs if begin <= sent.at < end]
    complete = [max(sent.arrivals.values()) - sent.at for recipients, sent in chosen
                if len(sent.arrivals) >= recipients]  # fmt: skip
    first = [min(sent.arrivals.values()) - sent.at for _, sent in chosen if sent.arrivals]
    pings = [rtt for when, rtt in collector.pings if begin <= when < end]
    return {
        "sent": len(chosen),
        "reached_every_screen": len(complete),
        "reached_some": sum(1 for _, sent in chosen if sent.arrivals),
        "refused": sum(1 for _, sent in chosen if sent.refused),
        "per_player_per_s": None,
        "to_every_screen": summary_ms(complete),
        "to_first_screen": summary_ms(first),
        "loopback": {**summary_ms(pings), "pings": len(pings)},
    }


def bytes_figures(collector: Collector, begin: float, end: float, players: int) -> dict[str, Any]:
    """Payload bytes per second a player's socket receives during play, by frame type."""
    seconds, by_type, frames = 0.0, Counter[str](), Counter[str]()
    for count, screen in collector.screens:
        if count != players or screen.seat is None:
            continue
        ticks = [when for when, kind, _ in screen.log if kind == "tick" and begin <= when < end]
        if len(ticks) < 2:
            continue
        first, last = ticks[0], ticks[-1]
        seconds += last - first
        for when, kind, size in screen.log:
            if first < when <= last:
                by_type[kind] += size
                frames[kind] += 1
    if not seconds:
        return {"player_seconds": 0.0, "bytes_per_s": None, "by_type": {}, "frames_per_s": {}}
    return {
        "player_seconds": round(seconds, 1),
        "bytes_per_s": round(sum(by_type.values()) / seconds),
        "by_type": {kind: round(size / seconds) for kind, size in sorted(by_type.items())},
        "frames_per_s": {kind: round(count / seconds, 2) for kind, count in sorted(frames.items())},
        "bytes_per_frame": {kind: round(by_type[kind] / frames[kind]) for kind in sorted(frames)},
    }


@dataclass
class Window:
    """The server's side of a window: the histogram and the CPU, before."""

    url: str  # where the loops' metrics are: the server's, or the worker's
    pids: list[int]  # the server (daphne)
    worker_pids: list[int]  # the worker, when it owns the matches
    database: str
    lateness: dict[float, float]
    sampled: cpu.Sample
    server: float
    worker: float
    client: float
    busy: float
    began: float

    @classmethod
    async def open(cls, url: str, pids: list[int], database: str, worker_pids: list[int] | None = None) -> Window:
        workers = worker_pids or []
        lateness = await scrape(url)
        return cls(url, pids, workers, database, lateness, cpu.sample(pids + workers, database), cpu_seconds(pids),
                   cpu_seconds(workers), _own_cpu(), machine_busy_seconds(), time.perf_counter())  # fmt: skip

    async def close(self) -> dict[str, Any]:
        ended = time.perf_counter()
        server, worker = cpu_seconds(self.pids), cpu_seconds(self.worker_pids)
        client, busy = _own_cpu(), machine_busy_seconds()
        groups = cpu.spent(self.sampled, cpu.sample(self.pids + self.worker_pids, self.database))
        lateness = bucket_delta(self.lateness, await scrape(self.url))
        figures = lateness_summary(lateness)
        seconds = ended - self.began
        server_s, worker_s, client_s = server - self.server, worker - self.worker, client - self.client
        ours = server_s + worker_s + client_s + groups["postgres"] - groups["postgres_other"] + groups["redis"]
        ticks = figures["ticks"]
        workers = {}
        if self.worker_pids:
            workers = {
                "worker_cpu_s": round(worker_s, 2),
                "worker_cpu_share": round(worker_s / seconds, 3),
                "worker_cpu_us_per_match_tick": round(1e6 * worker_s / ticks, 1) if ticks else None,
            }
        return {
            "seconds": round(seconds, 2),
            "lateness": figures,
            "live_matches": round(ticks / seconds / 20, 1),
            "server_cpu_s": round(server_s, 2),
            "server_cpu_share": round(server_s / seconds, 3),
            "cpu_us_per_match_tick": round(1e6 * server_s / ticks, 1) if ticks else None,
            **workers,
            "client_cpu_s": round(client_s, 2),
            "postgres_cpu_s": round(groups["postgres"], 2),
            "redis_cpu_s": round(groups["redis"], 2),
            "other_cpu_s": round(max(0.0, busy - self.busy - ours), 2),
        }


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# --- the runs ------------------------------------------------------------------------


def server_env(options: Options, prefix: str | None = None, in_process: bool = True) -> dict[str, str]:
    env = {"GAMES_REALTIME_IN_PROCESS": "1" if in_process else "0", "METRICS_TOKEN": METRICS_TOKEN}
    if options.start_delay_ms is not None:
        env["GAMES_REALTIME_START_DELAY_MS"] = str(options.start_delay_ms)
    if prefix:
        env["CHANNEL_LAYER_PREFIX"] = prefix
    return env


@dataclass
class Worker:
    pid: int
    metrics_url: str


@contextmanager
def running_worker(config: Config, database_url: str, env: dict[str, str], logs: Path) -> Iterator[Worker]:
    """The Procfile's worker (``manage.py runclock``) on the bench database and
    the servers' channel layer (``env`` holds their ``CHANNEL_LAYER_PREFIX``),
    serving its metrics on a free loopback port; stopped when the block ends."""
    port = free_port()
    environment = {**command_env(database_url, config.redis_url), "REDIS_CHANNEL_LAYER": "core", **env}
    log = open(logs / "worker.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen([sys.executable, "manage.py", "runclock", "--metrics-port", str(port)], cwd=ROOT,
                               env=environment, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited with {process.returncode} (log: {logs / 'worker.log'})")
            try:
                httpx.get(f"{url}/metrics", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the worker's metrics did not answer") from None
                time.sleep(0.2)
        yield Worker(process.pid, url)
    finally:
        stop_process(process, 5)
        log.close()


async def add_slots(clients: Clients, slots: list[Slot], count: int, url: str, players: int) -> None:
    """``count`` more slots, each playing by the time this returns."""
    tokens = await clients.players(count * players)
    new = [Slot(clients, tokens[i * players : (i + 1) * players], url) for i in range(count)]
    slots.extend(new)
    gate = asyncio.Semaphore(8)

    async def started(slot: Slot) -> None:
        async with gate:
            slot.task = asyncio.create_task(slot.run())
            await slot.ready.wait()

    await asyncio.gather(*(started(slot) for slot in new))


async def stop_slots(slots: list[Slot]) -> None:
    for slot in slots:
        slot.stopping.set()
    await asyncio.gather(*(slot.play.close() for slot in slots if slot.play is not None), return_exceptions=True)
    await asyncio.gather(*(slot.task for slot in slots if slot.task is not None), return_exceptions=True)


async def measure(
    servers: Running,
    database: str,
    collector: Collector,
    slots: list[Slot],
    options: Options,
    players: int,
    worker: Worker | None = None,
) -> dict[str, Any]:
    """One window on the slots running now (the loops' lateness from the worker's metrics when it owns them)."""
    stop = asyncio.Event()
    pinger = asyncio.create_task(ping_loop(slots, collector, stop))
    if worker is None:
        window = await Window.open(servers.urls[0], servers.pids, database)
    else:
        window = await Window.open(worker.metrics_url, servers.pids, database, [worker.pid])
    started = collector.matches_started
    await asyncio.sleep(options.window)
    figures = await window.close()
    figures["matches_started"] = collector.matches_started - started
    begin, end = window.began, window.began + figures["seconds"]
    await asyncio.sleep(SETTLE_SECONDS)
    stop.set()
    await pinger
    inputs = input_figures(collector, begin, end)
    inputs["per_player_per_s"] = round(inputs["sent"] / max(1e-9, figures["live_matches"] * players * (end - begin)), 2)
    return {"slots": len(slots), "players": players, **figures, "inputs": inputs,
            "bytes": bytes_figures(collector, begin, end, players)}  # fmt: skip


def step_line(row: dict[str, Any]) -> str:
    late, inputs = row["lateness"], row["inputs"]
    screens, loop = inputs["to_every_screen"], inputs["loopback"]
    worker = ""
    if "worker_cpu_s" in row:
        worker = f"worker CPU {row['worker_cpu_share']:.0%}, {row['worker_cpu_us_per_match_tick']} us/match-tick; "
    return (
        f"N={row['slots']} ({row['players']} players): {row['live_matches']} live, {late['ticks']} ticks, lateness "
        f"p50 {late['p50_ms']} ms p99 {late['p99_ms']} ms ({late['share_under_5ms']} under 5 ms); server CPU "
        f"{row['server_cpu_share']:.0%}, {row['cpu_us_per_match_tick']} us/match-tick; {worker}"
        f"client CPU {row['client_cpu_s']} s; "
        f"inputs {inputs['reached_every_screen']}/{inputs['sent']} to every screen, p50 {screens['p50_ms']} "
        f"p99 {screens['p99_ms']} ms; ping p50 {loop['p50_ms']} p99 {loop['p99_ms']} ms; "
        f"{row['bytes']['bytes_per_s']} B/s per player; others' CPU {row['other_cpu_s']} s"
    )


async def sweep(
    options: Options, config: Config, database_url: str, progress: Progress, loops: str = "web"
) -> dict[str, Any]:
    """Figures 1, 2 and 4 (4 players): one daphne process holding every socket, N growing; its
    own loops (``loops="web"``), or a worker's beside it (``"worker"``)."""
    collector = Collector()
    database = urlparse(database_url).path.lstrip("/")
    steps: list[dict[str, Any]] = []
    env = server_env(options, prefix=f"bench-{uuid.uuid4().hex[:8]}", in_process=loops == "web")
    with contextlib.ExitStack() as stack:
        servers = stack.enter_context(running("project", config, database_url, extra_env=env))
        worker = None
        if loops == "worker":
            worker = stack.enter_context(running_worker(config, database_url, env, servers.logs))
        owner = f"; worker pid {worker.pid}, metrics at {worker.metrics_url}" if worker else ""
        progress(f"sweep, {LOOPS_LABEL[loops]}: daphne pid {servers.pids[0]} at {servers.urls[0]}{owner}, "
                 f"logs in {servers.logs}")  # fmt: skip
        clients = Clients(servers.urls[0], options, collector)
        slots: list[Slot] = []
        try:
            for n in options.sweep:
                began = time.monotonic()
                await add_slots(clients, slots, n - len(slots), servers.urls[0], 4)
                await asyncio.sleep(options.warm_up)
                row = await measure(servers, database, collector, slots, options, 4, worker)
                row["errors"] = dict(collector.errors)
                steps.append(row)
                progress(f"({time.monotonic() - began:.0f} s) {step_line(row)}")
                if not _held(row) and n >= options.moderate:  # the moderate N is measured whatever happens
                    break
        finally:
            await stop_slots(slots)
            await clients.aclose()
    return {
        "loops": loops,
        "steps": steps,
        "matches_started": collector.matches_started,
        "match_ticks": sorted(collector.match_ticks),
        "errors": dict(collector.errors),
    }


async def two_players(
    options: Options, config: Config, database_url: str, progress: Progress, matches: int
) -> dict[str, Any]:
    """Figure 4 with 2 players a match (and figure 2 for them, as a bonus)."""
    collector = Collector()
    database = urlparse(database_url).path.lstrip("/")
    with running("project", config, database_url, extra_env=server_env(options)) as servers:
        clients = Clients(servers.urls[0], options, collector)
        slots: list[Slot] = []
        try:
            await add_slots(clients, slots, matches, servers.urls[0], 2)
            await asyncio.sleep(options.warm_up)
            row = await measure(servers, database, collector, slots, options, 2)
        finally:
            await stop_slots(slots)
            await clients.aclose()
    row["errors"] = dict(collector.errors)
    progress(step_line(row))
    return row


def lease_of(database_url: str, match_id: int) -> tuple[str, int] | None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT owner, epoch FROM games_matchlease WHERE match_id = %s", [match_id]).fetchone()
    return None if row is None else (row[0], row[1])


async def owned(database_url: str, match_id: int, seconds: float = 10.0) -> tuple[int, int]:
    """The pid of the process that owns the match, and the lease's epoch, once someone does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lease = await asyncio.to_thread(lease_of, database_url, match_id)
        if lease is not None and lease[0]:
            return int(lease[0].split(":")[1]), lease[1]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nobody took match {match_id} over")


async def failover_once(options: Options, config: Config, database_url: str, index: int) -> dict[str, Any]:
    collector = Collector()
    two = replace(config, processes=2)
    with running("project", two, database_url, extra_env=server_env(options)) as servers:
        clients = Clients(servers.urls[0], options, collector)
        try:
            tokens = await clients.players(2)
            match_id = await clients.new_match(tokens, join_url=servers.urls[1])
            owner, epoch = await owned(database_url, match_id)
            if owner not in servers.pids:
                raise RuntimeError(f"match {match_id}: owner pid {owner} is none of {servers.pids}")
            survivor = servers.urls[1 - servers.pids.index(owner)]
            play = await clients.open_play(match_id, tokens, survivor.replace("http", "ws"))
            first_tick = time.monotonic() + 15
            while play.state is None or play.state["tick"] < 10:  # ticking, seen at the survivor
                if time.monotonic() > first_tick or play.over.is_set():
                    raise RuntimeError(f"match {match_id} did not tick (over: {play.over.is_set()})")
                await asyncio.sleep(0.02)
            await asyncio.sleep(random.uniform(0, TICK_SECONDS))
            killed = time.perf_counter()
            os.kill(owner, signal.SIGKILL)
            deadline = killed + 10
            while time.perf_counter() < deadline and not all(s.first_new_epoch_tick for s in play.screens):
                await asyncio.sleep(0.005)
            after = await asyncio.to_thread(lease_of, database_url, match_id)
            ticks = [s.first_new_epoch_tick - killed for s in play.screens if s.first_new_epoch_tick]
            snapshots = [s.first_new_epoch_snapshot - killed for s in play.screens if s.first_new_epoch_snapshot]
            new_owner = int(after[0].split(":")[1]) if after and after[0] else None
            await play.close()
        finally:
            await clients.aclose()
    return {
        "run": index + 1,
        "match": match_id,
        "killed_pid": owner,
        "new_owner_pid": new_owner,
        "epoch_before": epoch,
        "epoch_after": after[1] if after else None,
        "screens": len(play.screens),
        "screens_with_new_tick": len(ticks),
        "first_tick_s": round(min(ticks), 3) if ticks else None,
        "last_screen_tick_s": round(max(ticks), 3) if ticks else None,
        "first_snapshot_s": round(min(snapshots), 3) if snapshots else None,
        "errors": dict(collector.errors),
    }


async def failovers(options: Options, config: Config, database_url: str, progress: Progress) -> dict[str, Any]:
    runs = []
    for index in range(options.failovers):
        try:
            run = await failover_once(options, config, database_url, index)
        except Exception as problem:
            run = {"run": index + 1, "failed": repr(problem)}
        runs.append(run)
        progress(f"failover {index + 1}: {run}")
    times = [run["first_tick_s"] for run in runs if run.get("first_tick_s") is not None]
    return {
        "runs": runs,
        "measured": len(times),
        "p50_s": round(statistics.median(times), 3) if times else None,
        "max_s": round(max(times), 3) if times else None,
        "held": bool(times) and len(times) == len(runs) and max(times) < FAILOVER_TARGET_S,
    }


async def run(options: Options, progress: Progress) -> dict[str, Any]:
    began = time.monotonic()
    config = Config(server="daphne", layer="redis", database="postgres", postgres_url=options.postgres_url,
                    redis_url=options.redis_url)  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="games-bench-realtime-"))
    load_before = os.getloadavg()
    with bench_database(config, workdir) as database_url:
        sweeps = {loops: await sweep(options, config, database_url, progress, loops) for loops in options.loops}
        primary = sweeps.get("web") or sweeps["worker"]
        held = [step["slots"] for step in primary["steps"] if _held(step)]
        matches = options.two_player_matches or max([1, *held])
        paired = await two_players(options, config, database_url, progress, matches)
        failed_over = await failovers(options, config, database_url, progress)
    results = {
        "command": command_line(options),
        "configuration": config.label(),
        "machine": machine(),
        "load_average_before": [round(value, 2) for value in load_before],
        "options": asdict(options),
        "sweep": sweeps.get("web"),  # figure 1 with the loops in the web process (None: not run)
        "worker_sweep": sweeps.get("worker"),  # figure 1 with the loops in the worker
        "two_players": paired,
        "failover": failed_over,
        "seconds": round(time.monotonic() - began, 1),
    }
    results["figures"] = figures(results)
    return results


# --- the figures and the report -------------------------------------------------------------


def _held(step: dict[str, Any]) -> bool:
    p99 = step["lateness"]["p99_ms"]
    return p99 is not None and p99 < PUNCTUAL_MS


def _sweeps(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The sweeps of figure 1 that ran, the web process's first."""
    return [swept for swept in (results.get("sweep"), results.get("worker_sweep")) if swept]


def punctuality(swept: dict[str, Any]) -> dict[str, Any]:
    steps = swept["steps"]
    held = [step for step in steps if _held(step)]
    largest = held[-1] if held else None
    return {
        "loops": swept.get("loops", "web"),
        "largest_n": largest["slots"] if largest else None,
        "first_failed_n": next((step["slots"] for step in steps if not _held(step)), None),
        "held": largest is not None,
    }


def latency_row(row: dict[str, Any], loops: str) -> dict[str, Any]:
    inputs = row["inputs"]
    screens, loop = inputs["to_every_screen"], inputs["loopback"]
    target = None if loop["p99_ms"] is None else round(SCREENS_TARGET_MS + loop["p99_ms"], 1)
    return {
        "loops": loops,
        "slots": row["slots"],
        "sent": inputs["sent"],
        "reached_every_screen": inputs["reached_every_screen"],
        "p50_ms": screens["p50_ms"],
        "p99_ms": screens["p99_ms"],
        "max_ms": screens["max_ms"],
        "loopback_p50_ms": loop["p50_ms"],
        "loopback_p99_ms": loop["p99_ms"],
        "p50_x_loopback": _ratio(screens["p50_ms"], loop["p50_ms"]),
        "p99_x_loopback": _ratio(screens["p99_ms"], loop["p99_ms"]),
        "target_ms": target,
        "held": None if target is None or screens["p99_ms"] is None else screens["p99_ms"] < target,
    }


def figures(results: dict[str, Any]) -> dict[str, Any]:
    """The four figures, each with its target and whether it held. Figure 1
    for each configuration that ran; figure 2 at the moderate, the largest
    held and the last N of the first one, and at the largest held N of the
    other; figure 4 from the first."""
    sweeps = _sweeps(results)
    primary = sweeps[0]
    steps = primary["steps"]
    held = [step for step in steps if _held(step)]
    largest = held[-1] if held else None
    moderate = next((s for s in steps if s["slots"] == results["options"]["moderate"]), steps[0] if steps else None)
    latency = []
    for step in dict.fromkeys(id(s) for s in [moderate, largest, steps[-1] if steps else None] if s):
        latency.append(latency_row(next(s for s in steps if id(s) == step), primary.get("loops", "web")))
    for other in sweeps[1:]:
        held_there = [step for step in other["steps"] if _held(step)] or other["steps"][-1:]
        if held_there:
            latency.append(latency_row(held_there[-1], other["loops"]))
    byte_rows = []
    calm = largest or (steps[0] if steps else None)  # bytes under a load the process holds
    if calm:
        byte_rows.append({"players": 4, "slots": calm["slots"], **calm["bytes"]})
    paired = results.get("two_players")
    if paired:
        byte_rows.append({"players": 2, "slots": paired["slots"], **paired["bytes"]})
    return {
        "punctuality": punctuality(primary),
        "punctuality_by_loops": {swept["loops"]: punctuality(swept) for swept in sweeps},
        "latency": latency,
        "bytes": byte_rows,
        "failover": {k: results["failover"][k] for k in ("p50_s", "max_s", "measured", "held")},
    }


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 1)


def command_line(options: Options) -> str:
    if options.quick:
        return "python manage.py benchrealtime --quick"
    o = options
    return (
        f"python manage.py benchrealtime --sweep {','.join(map(str, o.sweep))} --moderate {o.moderate} "
        f"--window {o.window:g} --warm-up {o.warm_up:g} --failovers {o.failovers} "
        f"--two-player-matches {o.two_player_matches} --loops {','.join(o.loops)}"
    )


def _v(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if abs(value) < 100 else f"{value:,.0f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("**yes**" if value else "**no**")


def sweep_table(steps: list[dict[str, Any]]) -> list[str]:
    """Figure 1's steps; with the worker's CPU beside daphne's when a worker ran the loops."""
    worker = any("worker_cpu_s" in s for s in steps)
    server = "daphne" if worker else "server"
    extra = " | worker CPU (share of a core) | worker CPU per tick per match (µs)" if worker else ""
    lines = [
        "| N (slots) | matches ticking (avg) | matches started | ticks | lateness p50 (ms) | lateness p99 (ms) "
        "| ticks under 5 ms | tick frames/s at a player (of 20) "
        f"| p99 < 5 ms | {server} CPU (share of a core) | {server} CPU per tick per match (µs){extra} | client CPU s "
        "| PostgreSQL / Redis CPU s | others' CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|" + "---:|---:|" * worker + "---:|---:|---:|",
    ]
    for s in steps:
        late = s["lateness"]
        share = late["share_under_5ms"]
        more = ""
        if worker:
            more = f" | {s.get('worker_cpu_share', 0):.0%} | {_v(s.get('worker_cpu_us_per_match_tick'))}"
        lines.append(
            f"| {s['slots']} | {s['live_matches']} | {s.get('matches_started', '-')} | {late['ticks']:,} "
            f"| {_v(late['p50_ms'])} | {_v(late['p99_ms'])} "
            f"| {'-' if share is None else f'{share:.2%}'} | {_v(s['bytes'].get('frames_per_s', {}).get('tick'))} "
            f"| {_yes(_held(s))} | {s['server_cpu_share']:.0%} "
            f"| {_v(s['cpu_us_per_match_tick'])}{more} | {s['client_cpu_s']:.1f} "
            f"| {s['postgres_cpu_s']:.1f} / {s['redis_cpu_s']:.1f} | {s['other_cpu_s']:.1f} |"
        )
    return lines


def behind(steps: list[dict[str, Any]]) -> list[str]:
    """A sentence on the steps whose sockets got fewer frames than the loop ran."""
    late = [s for s in steps if (s["bytes"].get("frames_per_s") or {}).get("tick", 20.0) < 19.5]
    if not late:
        return []
    s = late[0]
    inputs = s["inputs"]["to_every_screen"]
    return [
        f"From N = {s['slots']} on, the loop still ran its ticks (lateness p99 {_v(s['lateness']['p99_ms'])} ms) but "
        f"a player's socket got {_v(s['bytes']['frames_per_s']['tick'])} tick frames a second of the 20: the frames "
        f"fell behind on their way to the sockets (daphne at {s['server_cpu_share']:.0%} of a core), hence an "
        f"input p99 of {_v(inputs['p99_ms'])} ms there, and more crashes (shorter matches, more of them started).",
        "",
    ]


def latency_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| loops in | N (slots) | inputs sent | reached all 5 screens | p50 (ms) | p99 (ms) | max (ms) "
        "| loopback ping p50 / p99 (ms) | p50 / p99 x loopback | target: p99 < 75 ms + loopback p99 | held |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {_where(r)} | {r['slots']} | {r['sent']:,} | {r['reached_every_screen']:,} | {_v(r['p50_ms'])} "
            f"| {_v(r['p99_ms'])} "
            f"| {_v(r['max_ms'])} | {_v(r['loopback_p50_ms'])} / {_v(r['loopback_p99_ms'])} "
            f"| {_v(r['p50_x_loopback'], 'x')} / {_v(r['p99_x_loopback'], 'x')} | {_v(r['target_ms'])} ms "
            f"| {_yes(r['held'])} |"
        )
    return lines


def bytes_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| players | N (slots) | player-seconds measured | bytes/s per player | of which tick frames | of which events "
        "| other frames | frames/s: tick / event | bytes per frame: tick / event |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        by, fps, per = r.get("by_type", {}), r.get("frames_per_s", {}), r.get("bytes_per_frame", {})
        other = sum(v for k, v in by.items() if k not in ("tick", "event"))
        lines.append(
            f"| {r['players']} | {r['slots']} | {_v(r['player_seconds'])} | {_v(r['bytes_per_s'])} "
            f"| {_v(by.get('tick'))} | {_v(by.get('event'))} | {_v(other)} "
            f"| {_v(fps.get('tick'))} / {_v(fps.get('event'))} | {_v(per.get('tick'))} / {_v(per.get('event'))} |"
        )
    return lines


def failover_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| run | epoch before → after | killed pid → new owner | first new-epoch tick (s) | at the last socket (s) "
        "| new-epoch snapshot first (s) |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for r in runs:
        if "failed" in r:
            lines.append(f"| {r['run']} | failed: {r['failed']} | | | | |")
            continue
        lines.append(
            f"| {r['run']} | {r['epoch_before']} → {r['epoch_after']} | {r['killed_pid']} → {r['new_owner_pid']} "
            f"| {_s(r['first_tick_s'])} | {_s(r['last_screen_tick_s'])} | {_s(r['first_snapshot_s'])} |"
        )
    return lines


def _where(row: dict[str, Any]) -> str:
    return "the worker" if row.get("loops") == "worker" else "the web process"


def punctuality_line(swept: dict[str, Any], punctual: dict[str, Any]) -> str:
    steps = swept["steps"]
    worker = punctual["loops"] == "worker"
    largest = next((s for s in steps if s["slots"] == punctual["largest_n"]), None)
    measured = "no N held it"
    if largest:
        cpu_text = f"{_v(largest['cpu_us_per_match_tick'])} µs server CPU per tick per match"
        if worker:
            cpu_text = (f"CPU per tick per match: worker {_v(largest.get('worker_cpu_us_per_match_tick'))} µs, "
                        f"daphne {_v(largest['cpu_us_per_match_tick'])} µs")  # fmt: skip
        measured = f"largest N held: **{largest['slots']}** (p99 {_v(largest['lateness']['p99_ms'])} ms, {cpu_text})"
        if punctual["first_failed_n"]:
            stop = next(step for step in steps if step["slots"] == punctual["first_failed_n"])
            measured += f"; at N = {stop['slots']}: p99 {_v(stop['lateness']['p99_ms'])} ms"
        else:
            measured += "; every N of the sweep held it"
    where = ("loops in the worker (one daphne holds the sockets, one `runclock` owns every match)" if worker
             else "loops in the web process (one daphne holds the sockets and owns every match)")  # fmt: skip
    return (f"| 1. tick punctuality, 4 players + 1 spectator a match, {where} | p99 lateness < 5 ms at 20 Hz "
            f"| {measured} | {_yes(punctual['held'])} |")  # fmt: skip


def summary_lines(results: dict[str, Any]) -> list[str]:
    f = results["figures"]
    fail = f["failover"]
    by_loops = f.get("punctuality_by_loops") or {"web": f["punctuality"]}
    out = ["| figure | target | measured | held |", "|---|---|---|---|"]
    for swept in _sweeps(results):
        out.append(punctuality_line(swept, by_loops[swept.get("loops", "web")]))
    for r in f["latency"]:
        out.append(
            f"| 2. input to all 5 screens, N = {r['slots']}, loops in {_where(r)} "
            f"| p99 < 75 ms + loopback p99 ({_v(r['target_ms'])} ms) "
            f"| p50 {_v(r['p50_ms'])} ms, p99 **{_v(r['p99_ms'])} ms** ({_v(r['p99_x_loopback'], 'x')} the loopback "
            f"p99 of {_v(r['loopback_p99_ms'])} ms) | {_yes(r['held'])} |"
        )
    out.append(
        f"| 3. failover, kill -9 of the owner → first tick of the new owner | < 2 s | p50 **{_s(fail['p50_s'])} s**, "
        f"max **{_s(fail['max_s'])} s** over {fail['measured']} runs | {_yes(fail['held'])} |"
    )
    for r in f["bytes"]:
        by = r.get("by_type", {})
        out.append(
            f"| 4. bytes/s per player, {r['players']} players | (reported) | **{_v(r['bytes_per_s'])} B/s** "
            f"(tick frames {_v(by.get('tick'))}, events {_v(by.get('event'))}) | - |"
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    """The section of docs/performance.md, heading included."""
    o, m = results["options"], results["machine"]
    sweeps = _sweeps(results)
    delay = f"{o['start_delay_ms']} ms" if o["start_delay_ms"] is not None else "the game's 3 s"
    fail = results["failover"]
    intro = (
        "Light cycles (20 Hz, a frame every tick, a 64 by 64 grid) on the shipped configuration: daphne, the Redis "
        "core channel layer, PostgreSQL (a fresh database). The benchmark's one client process holds every "
        "socket, so every latency is read off one clock. Figure 1 is measured in two configurations, each with "
        "one daphne process holding every socket and N match *slots* of 4 players and 1 spectator (5 sockets a "
        "match). *Loops in the web process*: that daphne also runs every match's loop "
        "(`GAMES_REALTIME_IN_PROCESS=1`, no worker: its supervisor is the only one), so the ticks share its "
        "event loop with the sockets' work (the channel layer, database writes, WebSocket sends). *Loops in the "
        "worker*: daphne runs none (`GAMES_REALTIME_IN_PROCESS=0`) and one worker process (`manage.py runclock "
        "--metrics-port P`, the Procfile's `worker`, with its clock and other loops) owns every match; it sends "
        "each frame once to the match's frames group, through Redis, and daphne's relay passes it to the 5 "
        "sockets, so the worker's event loop runs little but ticks; its lateness histogram is scraped from the "
        "worker's own metrics port, and the CPU per tick per match is given for the worker and for daphne "
        "apart. A slot plays a match to its end, then starts another with "
        f"the same players (countdown: {delay}), so fewer than N matches tick at any moment (*matches ticking*: "
        "match-ticks run / window / 20; *matches started*: in the window, each with its HTTP calls and 5 new "
        "sockets). Slots are added step by step; after each "
        f"step's {o['warm_up']:g} s warm-up a {o['window']:g} s window is measured: the tick lateness from the "
        "loops' own `games_realtime_tick_lateness_seconds` histogram (scraped from `/metrics` before and after; "
        "p50 and p99 interpolated inside its buckets, as Prometheus' `histogram_quantile` does; the share under "
        "5 ms is exact, 5 ms being a bucket bound), and each server process's CPU (`/proc/<pid>/stat`) divided by "
        "the match-ticks run. Each configuration's sweep stops at the first step whose p99 is 5 ms or more once N = "
        f"{o['moderate']} is measured. Each player turns "
        f"every {o['turn_min']:g} to {o['turn_max']:g} s (into a free way with room, judged on the state the "
        "client rebuilds from the frames) and swerves when the way ahead (5 ticks) is blocked or crossed by another "
        "head; one input of a seat in flight at a time, sent at a random moment within a tick (not in step with "
        "the frames). Input latency: from just before the input is sent to the moment the "
        "last of the match's 5 sockets holds the `tick` frame whose `applied` lists it. Loopback: the round trip "
        "of a WebSocket ping to the same daphne (answered by its protocol layer, without the application), one "
        "every 50 ms on the spectators' sockets during the same window. Failover: two daphne processes, a new "
        "2-player match (and a spectator) whose sockets are on the process that does not own it (from "
        "`MatchLease.owner`); once it ticks, SIGKILL of the owner; the time to the first `tick` frame with a higher "
        "`epoch` at those sockets (each first gets a new snapshot from the new owner: *snapshot first*). Lease "
        "1 s, renewal 0.25 s (the defaults); new processes for every run."
    )
    load = results.get("load_average_before")
    machine_line = (
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}. The client "
        "process, PostgreSQL and Redis share these cores with the server (their CPU is in the table). *Others' "
        "CPU*: every other process on the machine during the window (from `/proc/stat`, less the server, the "
        "client, PostgreSQL and Redis); above zero, something else ran meanwhile."
    )
    if load:
        machine_line += f" Load average when the run began: {', '.join(f'{v:g}' for v in load)}."
    parts = [
        HEADING,
        "",
        intro,
        "",
        f"- Command: `{results['command']}` (took {results['seconds']:.0f} s)",
        machine_line,
        "",
        *summary_lines(results),
        "",
        *sweep_sections(sweeps),
        "### Input to every screen",
        "",
        *latency_table(results["figures"]["latency"]),
        "",
        "### Failover",
        "",
        *failover_table(fail["runs"]),
        "",
        "### Bytes per second per player, during play",
        "",
        "WebSocket payload bytes (the frames' text; a frame's 2 to 4 header bytes not counted) a player's socket "
        "received from its first to its last tick frame in the window, per second of play: 4 players at the "
        f"largest N that held figure 1 ({LOOPS_LABEL[sweeps[0].get('loops', 'web')]}; the sweep's table has every "
        "N's in realtime.json), 2 players in a run of "
        "their own with as many matches. Every tick with inputs is sent twice: as its `tick` frame (with "
        "`applied`) and, once logged, as a seq'd `event` (kind `ticks`, protocol 2: a patch of the match, the grid "
        "rows changed since the previous logged tick included).",
        "",
        *bytes_table(results["figures"]["bytes"]),
    ]
    counts = [(f"figure 1, {LOOPS_LABEL[swept.get('loops', 'web')]}", swept.get("errors", {})) for swept in sweeps]
    counts.append(("the 2-player run", results.get("two_players", {}).get("errors", {})))
    counted = "; ".join(f"{label}: " + ", ".join(f"{k}: {v}" for k, v in errors.items())
                        for label, errors in counts if errors)  # fmt: skip
    if counted:
        parts += ["", f"Client-side counts of refusals and problems ({counted})."]
    return "\n".join(parts)


def sweep_sections(sweeps: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for swept in sweeps:
        where = "the worker (one daphne holds the sockets, one worker owns every match)"
        if swept.get("loops") != "worker":
            where = "the web process (one daphne holds the sockets and owns every match)"
        title = f"### Tick punctuality, loops in {where}"
        lines += [title, "", *sweep_table(swept["steps"]), "", *behind(swept["steps"])]
    return lines


def write_figures(path: Path, results: dict[str, Any]) -> None:
    """Put the section between its markers in ``path`` (see ``bench.report.write_between_markers``)."""
    write_between_markers(path, START, END, markdown(results))
