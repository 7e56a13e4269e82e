"""Failover and fencing of real-time matches between real processes, on
PostgreSQL and Redis: two daphne processes, each with its supervisor (the
shipped lease: 1 s, renewed every 0.25 s), a light cycles match owned by
one of them and watched by its players and a spectator on the other.

* kill -9 of the owner: the other process resumes the match from the log
  within 2 s, its frames carry the next epoch, the players' inputs reach it
  and the match ends and replays from its log;
* SIGSTOP of the owner past its lease, then SIGCONT: the other process takes
  over, and the old owner, running again, writes nothing and sends no frame;
* SIGTERM of the owner: it hands its matches over at once, well before its
  lease would have lapsed.

Which process owns the match is read from its lease (``MatchLease.owner``
is ``host:pid:token``); each signal goes to that process, by its PID."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from games.models import Match, MatchEvent, MatchLease
from games.services import replay_differences
from tests.live import Person, in_thread, running_processes, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: Two cycles going straight on the 64x64 grid both hit the far walls on
#: this tick (2.4 s of play at 20 Hz): long enough to fail over mid-match.
SIZE, CRASH_TICK = 64, 48
TICK_SECONDS = 0.05
COUNTDOWN_MS = 1000  # time enough to open the sockets before tick 1
TAKEOVER_SECONDS = 2.0  # the bound, with the shipped lease of 1 s


class Screen:
    """One socket's view of the match, read in the background: every
    message with the monotonic time it arrived."""

    def __init__(self, sock: websockets.ClientConnection, snapshot: dict[str, Any]) -> None:
        self.sock, self.snapshot = sock, snapshot
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.sock:
                self.received.append((time.monotonic(), json.loads(text)))
        except ConnectionClosed:
            pass

    def ticks(self) -> list[tuple[float, dict[str, Any]]]:
        return [(at, message) for at, message in self.received if message["type"] == "tick"]

    def last_tick(self) -> int:
        frames = self.ticks()
        return frames[-1][1]["tick"] if frames else 0

    def first_of_epoch(self, epoch: int) -> float | None:
        return next((at for at, frame in self.ticks() if frame["epoch"] == epoch), None)

    def ending(self) -> dict[str, Any] | None:
        return next((m for _, m in self.received if m["type"] == "event" and m["match"]["status"] == "finished"), None)

    async def until(self, check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.sock.close()
        await self.reader


class Arena:
    """A light cycles match between alice and bob, its owner's process and
    the other one, and the screens open on the other one."""

    def __init__(self, urls: list[str], processes: list[subprocess.Popen]) -> None:
        self.urls, self.processes = urls, processes
        self.alice, self.bob = Person(urls[0], "alice"), Person(urls[1], "bob")
        self.screens: list[Screen] = []

    async def start(self) -> None:
        """Create and fill the match, find its owner, open the players' and a
        spectator's sockets on the other process, and wait for tick 5."""
        for person in (self.alice, self.bob):
            await in_thread(person.register)
        match = await in_thread(self.alice.post, "/api/matches", {"game": "lightcycles", "options": {"size": SIZE}})
        self.match_id = match["id"]
        await in_thread(self.bob.post, f"/api/matches/{self.match_id}/join")
        await in_thread(wait_for, lambda: owner_pid(self.match_id) is not None, 3, "a process took the match")
        self.owner = self.process(await in_thread(owner_pid, self.match_id))
        self.other = next(index for index in range(2) if index != self.owner)
        server = self.urls[self.other]
        for person in (self.alice, self.bob):
            self.screens.append(Screen(*await person.watch(self.match_id, server)))
        self.screens.append(Screen(*await spectate(server, self.match_id)))
        for screen in self.screens:
            await screen.until(lambda screen=screen: screen.last_tick() >= 5, 5, "tick 5")

    def process(self, pid: int | None) -> int:
        """The index of the process with ``pid`` among this test's servers."""
        indexes = [index for index, process in enumerate(self.processes[:2]) if process.pid == pid]
        assert indexes, f"the owner {pid} is none of this test's servers"
        return indexes[0]

    @property
    def owner_process(self) -> subprocess.Popen:
        return self.processes[self.owner]

    async def steer(self, direction: str) -> None:
        """Alice (seat 0) turns, through her socket on the surviving process."""
        await self.screens[0].sock.send(json.dumps({"type": "input", "input": {"dir": direction}}))

    async def until_over(self) -> None:
        for screen in self.screens:
            await screen.until(lambda screen=screen: screen.ending() is not None, 10, "the match's ending")

    async def close(self) -> None:
        for screen in self.screens:
            await screen.close()


async def spectate(server: str, match_id: int) -> tuple[websockets.ClientConnection, dict[str, Any]]:
    sock = await websockets.connect(f"{server.replace('http', 'ws')}/ws/matches/{match_id}/")
    return sock, json.loads(await asyncio.wait_for(sock.recv(), 5))


def turned(screen: Screen, direction: str) -> list[dict[str, Any]]:
    """The frames that applied alice's turn ``direction``."""
    return [frame for _, frame in screen.ticks() if [0, {"dir": direction}] in frame.get("applied", [])]


def owner_pid(match_id: int) -> int | None:
    owner = MatchLease.objects.filter(match_id=match_id).values_list("owner", flat=True).first()
    return int(owner.split(":")[1]) if owner else None


def lease_epoch(match_id: int) -> int | None:
    return MatchLease.objects.filter(match_id=match_id).values_list("epoch", flat=True).first()


def logged_ticks(match_id: int) -> list[dict[str, Any]]:
    events = MatchEvent.objects.filter(match_id=match_id, kind="ticks").order_by("seq")
    return list(events.values_list("move", flat=True))


def replayed(match_id: int) -> list[str]:
    return replay_differences(Match.objects.get(pk=match_id))


@pytest.fixture
def servers(transactional_db: None, tmp_path: Path) -> Iterator[tuple[list[str], list[subprocess.Popen]]]:
    env = {"GAMES_REALTIME_START_DELAY_MS": str(COUNTDOWN_MS), "GAMES_REALTIME_LEASE_SECONDS": "1.0"}
    with running_processes(tmp_path, servers=2, env=env) as running:
        yield running


async def test_after_kill_9_of_the_owner_the_other_process_resumes_the_match_within_2_s(
    servers: tuple[list[str], list[subprocess.Popen]],
) -> None:
    arena = Arena(*servers)
    await arena.start()
    try:
        arena.owner_process.kill()  # SIGKILL: no goodbye, no handing over
        killed = time.monotonic()
        await in_thread(arena.owner_process.wait)
        for screen in arena.screens:
            await screen.until(lambda screen=screen: screen.first_of_epoch(2), TAKEOVER_SECONDS + 1, "epoch 2")
        first = min(screen.first_of_epoch(2) or 0.0 for screen in arena.screens)
        assert first - killed < TAKEOVER_SECONDS, f"the first tick of the new owner came {first - killed:.2f} s on"
        assert arena.process(await in_thread(owner_pid, arena.match_id)) == arena.other
        await arena.steer("down")
        await arena.until_over()
    finally:
        await arena.close()
    for screen in arena.screens:
        frames = [frame for _, frame in screen.ticks()]
        before = [frame["tick"] for frame in frames if frame["epoch"] == 1]
        after = [frame["tick"] for frame in frames if frame["epoch"] == 2]
        assert [frame["epoch"] for frame in frames] == sorted(frame["epoch"] for frame in frames)
        assert before == list(range(before[0], before[-1] + 1))
        # The new owner goes on from no later than the last tick anyone saw,
        # without a gap, to the ending.
        assert after == list(range(after[0], after[-1] + 1)) and after[0] <= before[-1] + 1
        assert [frame["epoch"] for frame in turned(screen, "down")] == [2], "alice's turn reached the new owner"
        [resumed] = [m for _, m in screen.received if m["type"] == "snapshot" and m["realtime"]["epoch"] == 2]
        assert resumed["realtime"]["tick"] < after[0]
        ending = screen.ending()
        # Alice turned down into the wall below, long before bob reaches his.
        assert ending is not None and ending["match"]["result"] == {"winner": 1, "reason": "last_cycle"}
    inputs = [tick for tick in await in_thread(logged_ticks, arena.match_id) if tick["inputs"]]
    [turn] = turned(arena.screens[2], "down")
    assert inputs == [{"tick": turn["tick"], "inputs": [[0, {"dir": "down"}]], "epoch": 2}]
    assert await in_thread(replayed, arena.match_id) == []


async def test_an_owner_paused_past_its_lease_writes_and_sends_nothing_once_resumed(
    servers: tuple[list[str], list[subprocess.Popen]],
) -> None:
    """Alice turns just before her match's owner is paused, and again once
    the other process has taken the match over. A spectator on the paused
    process, frozen with it, sees the match go on once it runs again."""
    arena = Arena(*servers)
    await arena.start()
    paused = arena.owner_process.pid
    near = Screen(*await spectate(arena.urls[arena.owner], arena.match_id))
    try:
        await arena.steer("down")
        os.kill(paused, signal.SIGSTOP)
        try:
            for screen in arena.screens:
                await screen.until(lambda screen=screen: screen.first_of_epoch(2), TAKEOVER_SECONDS + 1, "epoch 2")
            await arena.steer("left")
            await arena.screens[2].until(lambda: turned(arena.screens[2], "left"), 2, "the second turn applied")
        finally:
            os.kill(paused, signal.SIGCONT)
        resumed = time.monotonic()
        await arena.until_over()
        await near.until(lambda: near.ending() is not None, 10, "the ending, on the resumed process")
    finally:
        await arena.close()
        await near.close()
    assert arena.owner_process.poll() is None, "the old owner's process lives on"
    for screen in [*arena.screens, near]:
        epochs = [frame["epoch"] for _, frame in screen.ticks()]
        assert epochs == sorted(epochs) and epochs[-1] == 2, "no frame of epoch 1 after one of epoch 2"
    # (near's process was frozen too: frames sent before the pause may reach it after.)
    for screen in arena.screens:
        assert [frame for at, frame in screen.ticks() if frame["epoch"] == 1 and at > resumed] == []
    assert {frame["epoch"] for _, frame in arena.screens[2].ticks()} == {1, 2}
    # The new owner resumed from the later of the last tick logged and the
    # last reported: a tick of epoch 1 from there on was written after the
    # takeover.
    taken_from = min(frame["tick"] for _, frame in arena.screens[2].ticks() if frame["epoch"] == 2)
    logged = await in_thread(logged_ticks, arena.match_id)
    assert [tick for tick in logged if tick["epoch"] == 1 and tick["tick"] >= taken_from] == []
    [second_turn] = turned(arena.screens[2], "left")
    assert {"tick": second_turn["tick"], "inputs": [[0, {"dir": "left"}]], "epoch": 2} in logged
    assert logged[-1]["epoch"] == 2  # the ending
    assert await in_thread(replayed, arena.match_id) == []


async def test_sigterm_hands_the_owners_matches_over_at_once(tmp_path: Path, transactional_db: None) -> None:
    """With a lease of 5 s, only the owner's handing over lets the other
    process take the match within 2 s of the SIGTERM."""
    env = {"GAMES_REALTIME_START_DELAY_MS": str(COUNTDOWN_MS), "GAMES_REALTIME_LEASE_SECONDS": "5"}
    with running_processes(tmp_path, servers=2, env=env) as servers:
        arena = Arena(*servers)
        await arena.start()
        try:
            os.kill(arena.owner_process.pid, signal.SIGTERM)
            stopped = time.monotonic()
            for screen in arena.screens:
                await screen.until(lambda screen=screen: screen.first_of_epoch(2), 4, "epoch 2")
            first = min(screen.first_of_epoch(2) or 0.0 for screen in arena.screens)
            assert first - stopped < TAKEOVER_SECONDS
            assert await in_thread(arena.owner_process.wait, 10) == 0
            await arena.until_over()
        finally:
            await arena.close()
    assert await in_thread(lease_epoch, arena.match_id) is None  # the match ended: no lease is left
    assert await in_thread(replayed, arena.match_id) == []
