"""Real-time matches (games.realtime) over WebSockets, on the configured
channel layer (in memory, or Redis when REDIS_URL is set) and database:
light cycles played to each ending by sending inputs, spectators seeing
every frame in order, the protocol's refusals, snapshots from the owner,
the lease (takeover, renewal, fencing) and computer opponents.

A supervisor (the ``supervisor`` fixture) runs in the test's event loop as
it would in a server process (on Redis, with a channel layer of its own, so
inputs and snapshots cross Redis as between processes); the one a server
starts with its first socket is off in tests, so each test says which
"processes" run matches. Matches are on a 10x10 grid, which two cycles that
never turn cross in 8 ticks: both hit the far walls on tick 8, a draw."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient
from django.utils import timezone

from bots.services import start_bot_match
from games import broadcast, services
from games.engine.match import Status
from games.models import Match, MatchEvent, MatchLease, Player
from games.realtime import lease
from games.realtime import relay as relay_module
from games.realtime.lease import Fenced
from games.realtime.loop import TICK_LATENESS
from games.realtime.relay import relay
from games.realtime.supervisor import Supervisor
from lightcycles.rules import LightCycles
from tests.conftest import Client, open_path, start_supervisor

pytestmark = pytest.mark.django_db(transaction=True)

GAME = LightCycles()
SMALL = {"size": 10}
#: Two cycles going straight on the 10x10 grid both crash on this tick.
CRASH_TICK = 8


@pytest.fixture(autouse=True)
def quick(settings: Any) -> None:
    """A short countdown, and a short wait for an owner's snapshot."""
    settings.GAMES_REALTIME_START_DELAY_MS = 200
    settings.GAMES_REALTIME_SNAPSHOT_SECONDS = 0.3


def straight(ticks: int, size: int = 10) -> dict[str, Any]:
    """The state of a two-player match after ``ticks`` ticks of nobody turning."""
    state = GAME.initial_state(2, {"size": size})
    for number in range(1, ticks + 1):
        state = GAME.apply_tick(state, number, {})
    return state


class Screen:
    """What one socket received, read up to the match's ending: its tick
    frames and its events, each in the order they came."""

    def __init__(self, client: Client, snapshot: dict[str, Any]) -> None:
        self.client, self.snapshot = client, snapshot
        self.ticks: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, client: Client) -> Screen:
        return cls(client, await client.next("snapshot"))

    async def read(self, timeout: float = 3) -> dict[str, Any]:
        message = await self.client.receive(timeout)
        kind = message["type"]
        if kind == "tick":
            self.ticks.append(message)
        elif kind == "event":
            self.events.append(message)
        elif kind == "error":
            self.errors.append(message)
        elif kind == "snapshot":
            self.snapshots.append(message)
        return message

    async def until_tick(self, number: int) -> dict[str, Any]:
        while not self.ticks or self.ticks[-1]["tick"] < number:
            await self.read()
        return self.ticks[-1]

    async def until_applied(self) -> dict[str, Any]:
        """The first tick frame that applied inputs."""
        while not any("applied" in frame for frame in self.ticks):
            await self.read()
        return next(frame for frame in self.ticks if "applied" in frame)

    async def until_error(self) -> dict[str, Any]:
        while not self.errors:
            await self.read()
        return self.errors.pop(0)

    async def until_over(self) -> dict[str, Any]:
        """The event that ended the match."""
        while not self.events or self.events[-1]["match"]["status"] not in ("finished", "aborted"):
            await self.read()
        return self.events[-1]

    async def outcome(self) -> dict[str, Any]:
        """The match as it ended: from the snapshot if it had ended before
        this socket opened (a loaded machine), else from the ending event."""
        if self.snapshot["match"]["status"] in ("finished", "aborted"):
            return self.snapshot["match"]
        return (await self.until_over())["match"]

    def tick_numbers(self) -> list[int]:
        return [frame["tick"] for frame in self.ticks]


async def screens(connect: Callable, match_id: int, *players: Player | None) -> list[Screen]:
    return [await Screen.open(await connect(match_id, player)) for player in players]


async def lobby(
    connect: Callable, alice: Player, bob: Player, options: dict[str, Any] = SMALL
) -> tuple[int, Screen, Screen, Screen]:
    """A match alice creates; her socket, bob's and a spectator's open on it
    while it waits (as on the match page); then bob joins and the countdown
    starts. Every screen has read its snapshot."""
    created = await database_sync_to_async(services.create_match)(alice, "lightcycles", options)
    match_id = created.match["id"]
    a, b, watcher = await screens(connect, match_id, alice, bob, None)
    await database_sync_to_async(services.join_match)(match_id, bob)
    return match_id, a, b, watcher


async def ticks_logged(match_id: int) -> list[dict[str, Any]]:
    rows = MatchEvent.objects.filter(match_id=match_id, kind="ticks").order_by("seq").values_list("move", flat=True)
    return await database_sync_to_async(list)(rows)


async def stored(match_id: int) -> Match:
    return await database_sync_to_async(Match.objects.get)(pk=match_id)


def slow_writes(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every tick the loops log takes ``seconds`` longer (a busy database)."""
    log_ticks = services.log_ticks

    def slow_log_ticks(*args: Any) -> Any:
        time.sleep(seconds)
        return log_ticks(*args)

    monkeypatch.setattr(services, "log_ticks", slow_log_ticks)


async def wait_for(condition: Callable[[], bool], timeout: float = 3) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def ticks_measured() -> float:
    """Ticks whose lateness this process has recorded (``/metrics`` serves them)."""
    return next(sample.value for sample in TICK_LATENESS.collect()[0].samples if sample.name.endswith("_count"))


def in_order_from(screen: Screen, first: int) -> None:
    """The screen got every tick from ``first`` to the last one, once each, in order."""
    numbers = screen.tick_numbers()
    assert numbers == list(range(first, first + len(numbers))), numbers


# --- playing to each ending ------------------------------------------------------------


async def test_a_match_plays_to_a_win_by_inputs_and_a_spectator_sees_every_frame(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor
) -> None:
    ticks_before = ticks_measured()
    match_id, a, b, watcher = await lobby(connect, alice, bob)
    for screen in (a, b, watcher):
        realtime = screen.snapshot["realtime"]
        assert (realtime["tick_ms"], realtime["frame_every"], realtime["inputs_per_tick"]) == (50, 1, 2)
        assert realtime["tick"] == 0 and screen.snapshot["match"]["status"] == "waiting"
    # Seat 0 turns down on tick 6, 7 or 8 (whichever the input reaches): it
    # then outlives seat 1, which hits the left wall on tick 8.
    await a.until_tick(5)
    await a.client.send({"type": "input", "input": {"dir": "down"}, "ref": "turn"})
    ending = await watcher.until_over()
    assert ending["match"]["result"] == {"winner": 0, "reason": "last_cycle"}
    in_order_from(watcher, 1)
    last = watcher.ticks[-1]
    assert last["tick"] == CRASH_TICK and last["frame"]["crashed"] == [1] and last["epoch"] == 1
    turned = [frame for frame in watcher.ticks if "applied" in frame]
    assert len(turned) == 1 and turned[0]["applied"] == [[0, {"dir": "down"}]] and 6 <= turned[0]["tick"] <= 8
    for screen in (a, b):
        assert (await screen.until_over())["match"]["result"]["winner"] == 0
        in_order_from(screen, 1)
    logged = await ticks_logged(match_id)
    assert [entry["inputs"] for entry in logged] == [[[0, {"dir": "down"}]], []]
    assert logged[-1]["tick"] == CRASH_TICK and {entry["epoch"] for entry in logged} == {1}
    assert await database_sync_to_async(services.replay_differences)(await stored(match_id)) == []
    await wait_for(lambda: not supervisor.loops)
    assert not await database_sync_to_async(MatchLease.objects.filter(match_id=match_id).exists)()
    assert ticks_measured() - ticks_before >= CRASH_TICK


async def test_a_rated_draw_when_the_last_cycles_crash_together_then_a_rematch(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor
) -> None:
    options = {**SMALL, "rated": True}
    _match_id, a, b, watcher = await lobby(connect, alice, bob, options)
    # Both steer once without changing course (an input the rules ignore), so both count as having played.
    await a.until_tick(1)
    for screen, heading in ((a, "right"), (b, "left")):
        await screen.client.send({"type": "input", "input": {"dir": heading}})
    ending = await watcher.until_over()
    assert ending["match"]["result"]["winner"] is None and ending["match"]["result"]["reason"] == "collision"
    assert {entry["player"] for entry in ending["match"]["result"]["ratings"]} == {alice.pk, bob.pk}
    assert watcher.ticks[-1]["tick"] == CRASH_TICK and sorted(watcher.ticks[-1]["frame"]["crashed"]) == [0, 1]
    in_order_from(watcher, 1)
    await b.until_over()
    for screen in (a, b):
        await screen.client.send({"type": "rematch"})
    rematch = await a.client.next("rematch", skip=("presence", "event", "tick"))
    new = rematch["match"]
    assert new["game"] == "lightcycles" and new["status"] == "active" and new["options"] == options
    assert [player["id"] for player in new["players"]] == [bob.pk, alice.pk]  # seats rotated
    assert await database_sync_to_async(MatchLease.objects.filter(match_id=new["id"]).exists)()
    [again] = await screens(connect, new["id"], alice)
    assert (await again.outcome())["result"]["reason"] == "collision"  # the new match runs too


async def test_a_match_against_the_computer_ends_with_the_bot_steering_by_bot_input(
    alice: Player, connect: Callable, supervisor: Supervisor
) -> None:
    started = await database_sync_to_async(start_bot_match)(alice, "lightcycles", SMALL, 1)
    match_id = started.match["id"]
    [a] = await screens(connect, match_id, alice)
    # Alice never steers and hits the right wall on tick 8; the bot turns before the left one.
    assert (await a.outcome())["result"] == {"winner": 1, "reason": "last_cycle"}
    logged = await ticks_logged(match_id)
    steered = {seat for entry in logged for seat, _ in entry["inputs"]}
    assert steered == {1}
    moves = MatchEvent.objects.filter(match_id=match_id, kind="move")
    assert not await database_sync_to_async(moves.exists)(), "the turn-based bots runner stays out"


async def test_quick_play_over_sockets_pairs_two_players_into_a_running_match(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, settings: Any
) -> None:
    settings.GAMES_REALTIME_START_DELAY_MS = 500  # the players' match sockets open during the countdown, mostly
    queues = [await open_path("/ws/queue/", player) for player in (alice, bob)]
    try:
        for client, _, _ in queues:
            await client.send({"type": "seek", "game": "lightcycles", "options": SMALL})
        paired = [await client.next("paired", skip=("seeking",)) for client, _, _ in queues]
    finally:
        for client, _, _ in queues:
            await client.close()
    match_id = paired[0]["match"]
    assert paired[1]["match"] == match_id
    [b] = await screens(connect, match_id, bob)
    assert (await b.outcome())["result"] == {"winner": None, "reason": "collision"}
    in_order_from(b, b.snapshot["realtime"]["tick"] + 1)


# --- the protocol's refusals ----------------------------------------------------------------


async def test_inputs_refused_at_the_socket(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, active_match: dict
) -> None:
    created = await database_sync_to_async(services.create_match)(alice, "lightcycles", SMALL)
    match_id = created.match["id"]
    a, _b, watcher = await screens(connect, match_id, alice, bob, None)
    turn = {"dir": "up"}
    await a.client.send({"type": "input", "input": turn, "ref": 1})
    assert (await a.until_error())["code"] == "match_not_active"  # nobody joined yet
    await database_sync_to_async(services.join_match)(match_id, bob)
    refusals = [
        (watcher, {"type": "input", "input": turn}, "not_a_player"),
        (a, {"type": "input", "input": {"dir": "north"}}, "illegal_move"),
        (a, {"type": "input", "input": {"turn": "up"}}, "illegal_move"),
        (a, {"type": "move", "move": turn}, "illegal_move"),
        (a, {"type": "input", "input": turn, "seat": 1}, "bad_message"),  # the seat is the socket's
        (a, {"type": "input", "input": "up"}, "bad_message"),
    ]
    for screen, message, code in refusals:
        await screen.client.send({**message, "ref": code})
        error = await screen.until_error()
        assert (error["code"], error["ref"]) == (code, code), (message, error)
    [tictactoe] = await screens(connect, active_match["id"], alice)
    await tictactoe.client.send({"type": "input", "input": {"cell": 0}})
    assert (await tictactoe.until_error())["code"] == "illegal_move"
    await watcher.until_over()
    assert not [frame for frame in watcher.ticks if "applied" in frame]
    await a.client.send({"type": "input", "input": turn})
    assert (await a.until_error())["code"] == "match_not_active"


async def test_too_many_inputs_in_a_tick_are_refused_and_an_old_tick_counts_for_the_next(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LightCycles, "tick_ms", 200)  # room to send three inputs inside one tick
    match_id, a, _b, watcher = await lobby(connect, alice, bob)
    seen = (await a.until_tick(1))["tick"]
    await a.client.send({"type": "input", "input": {"dir": "up"}, "tick": 0, "ref": "old"})  # tick 0 is past
    await a.client.send({"type": "input", "input": {"dir": "left"}, "ref": "second"})
    await a.client.send({"type": "input", "input": {"dir": "down"}, "ref": "third"})
    error = await a.until_error()
    assert (error["code"], error["ref"]) == ("rate_limited", "third")
    frame = await watcher.until_applied()
    assert frame["tick"] > seen, "applied at the next tick, never at a past one"
    assert frame["applied"] == [[0, {"dir": "up"}], [0, {"dir": "left"}]]
    assert frame["frame"]["queued"] == ["left", None]  # the second turn waits a tick, as the rules say
    await a.client.send({"type": "resign"})
    await watcher.until_over()
    logged = await ticks_logged(match_id)
    assert logged[0] == {"tick": frame["tick"], "inputs": frame["applied"], "epoch": 1}


async def test_a_resync_gets_the_owners_tick_and_a_resignation_stops_the_loop(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor
) -> None:
    match_id, a, b, watcher = await lobby(connect, alice, bob, {"size": 20})
    await b.until_tick(3)
    await b.client.send({"type": "resync"})  # as a client that missed a frame does
    snapshot = await b.client.next("snapshot", skip=("presence", "tick", "event"))
    tick = snapshot["realtime"]["tick"]
    assert tick >= 3 and snapshot["realtime"]["epoch"] == 1
    assert snapshot["match"]["state"] == straight(tick, size=20)
    b.ticks.clear()
    assert (await b.read())["tick"] == tick + 1  # frames go on from the snapshot's tick
    running = supervisor.loops[match_id]
    await a.client.send({"type": "resign"})
    ending = await watcher.until_over()
    assert ending["match"]["result"] == {"winner": 1, "reason": "resign"}
    await wait_for(lambda: not supervisor.loops, timeout=0.2)  # told at once, not at its next renewal
    assert running.reason.startswith("the match ended")
    await watcher.client.nothing_but_presence()  # no tick after the ending
    assert not await database_sync_to_async(MatchLease.objects.filter(match_id=match_id).exists)()
    assert await database_sync_to_async(services.replay_differences)(await stored(match_id)) == []


async def test_a_snapshot_comes_from_the_database_when_no_owner_answers(
    alice: Player, bob: Player, connect: Callable, transactional_db: None
) -> None:
    match_id, _a, _b, _watcher = await lobby(connect, alice, bob)
    await database_sync_to_async(MatchLease.objects.filter(match_id=match_id).update)(
        channel="realtime.gone!nobody", epoch=3
    )
    [late] = await screens(connect, match_id, bob)
    assert late.snapshot["realtime"]["epoch"] == 3 and late.snapshot["realtime"]["tick"] == 0
    assert late.snapshot["match"]["status"] == "active"


# --- the lease: takeover, fencing, failover -------------------------------------------------


@pytest.fixture
def slow_renewals(settings: Any) -> None:
    """Leases long enough, and renewed rarely enough, that a loop learns of
    a takeover (or its own pause) within a test only the way under test."""
    settings.GAMES_REALTIME_LEASE_SECONDS = 5
    settings.GAMES_REALTIME_RENEW_SECONDS = 3


async def test_a_lease_taken_over_by_another_process_fences_the_old_owner(
    alice: Player, bob: Player, connect: Callable, slow_renewals: None, supervisor: Supervisor
) -> None:
    match_id, _a, _b, watcher = await lobby(connect, alice, bob, {"size": 20})
    await watcher.until_tick(2)
    old = supervisor.loops[match_id]

    def take_over_elsewhere() -> lease.Taken | None:
        """Another process, once the lease has lapsed (here: made to)."""
        MatchLease.objects.filter(match_id=match_id).update(expires_at=timezone.now() - timedelta(seconds=1))
        return lease.take_over(match_id, "test-process-b", "nowhere")

    taken = await database_sync_to_async(take_over_elsewhere)()
    assert taken is not None and taken.epoch == old.epoch + 1 == 2
    old.take_input(0, {"dir": "up"})  # an input that reached the old owner: its next tick has a write
    await wait_for(lambda: old.stopped)
    assert old.reason.startswith("fenced")
    assert await ticks_logged(match_id) == [], "the fenced write wrote nothing"
    last = old.state["tick"]
    await asyncio.sleep(0.2)
    while not await watcher.client.communicator.receive_nothing(0.05):
        message = await watcher.read()
        assert message["type"] != "tick" or message["tick"] <= last, "a fenced owner broadcasts nothing more"
    before = await stored(match_id)
    with pytest.raises(Fenced):
        await database_sync_to_async(services.log_ticks)(match_id, last + 1, [], 1, lease.fence(match_id, 1))
    assert (await stored(match_id)).seq == before.seq


async def test_an_owner_paused_past_its_lease_stops_before_ticking_again(
    alice: Player, bob: Player, connect: Callable, slow_renewals: None, supervisor: Supervisor
) -> None:
    match_id, a, _b, watcher = await lobby(connect, alice, bob, {"size": 20})
    await watcher.until_tick(2)
    paused = supervisor.loops[match_id]
    await a.client.send({"type": "input", "input": {"dir": "up"}})
    paused.renewed_at -= 60  # as if the process had been stopped (SIGSTOP) for a minute
    await wait_for(lambda: paused.stopped)
    assert paused.reason == "the lease was not renewed in time"
    last = paused.state["tick"]
    await asyncio.sleep(0.2)
    while not await watcher.client.communicator.receive_nothing(0.05):
        message = await watcher.read()
        assert message["type"] != "tick" or message["tick"] <= last
    assert await ticks_logged(match_id) == []


async def test_another_process_resumes_a_match_whose_owner_died(
    alice: Player, bob: Player, connect: Callable, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.GAMES_REALTIME_LEASE_SECONDS = 0.5
    settings.GAMES_REALTIME_RENEW_SECONDS = 0.1
    first, first_task, first_stop = await start_supervisor("test-process-a")
    match_id, _a, _b, watcher = await lobby(connect, alice, bob, {"size": 20})
    await watcher.until_tick(3)
    # The first process dies: its loop stops with no goodbye (kill -9 hands nothing over).
    monkeypatch.setattr(lease, "hand_over", lambda match_id, epoch: None)
    dying = first.loops[match_id]
    first_stop.set()
    await first_task
    last_run = dying.state["tick"]
    died = asyncio.get_running_loop().time()
    second, second_task, second_stop = await start_supervisor("test-process-b")
    try:
        await wait_for(lambda: match_id in second.loops)
        assert asyncio.get_running_loop().time() - died < 2, "taken over within 2 s"
        resumed_from = second.loops[match_id].resumed_from
        # From the last tick the first owner reported (it renews every 0.1 s: two ticks).
        assert 0 <= last_run - resumed_from <= 3
        ending = await watcher.until_over()
        assert ending["match"]["result"] == {"winner": None, "reason": "collision"}
        [resumed] = watcher.snapshots
        before = [frame for frame in watcher.ticks if frame["epoch"] == 1]
        after = [frame for frame in watcher.ticks if frame["epoch"] == 2]
        assert [frame["tick"] for frame in before] == list(range(1, len(before) + 1))
        assert resumed["realtime"]["epoch"] == 2 and resumed["realtime"]["tick"] >= resumed_from
        assert [frame["tick"] for frame in after] == list(range(resumed["realtime"]["tick"] + 1, 16))
        assert (await ticks_logged(match_id))[-1] == {"tick": 15, "inputs": [], "epoch": 2}
        assert await database_sync_to_async(services.replay_differences)(await stored(match_id)) == []
    finally:
        second_stop.set()
        await second_task


async def test_a_tick_that_raises_aborts_the_match_rather_than_stall_it(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the game's code would fail on any process: the owner aborts
    the match (its players are told) instead of renewing a lease it cannot
    play or handing the failure from process to process."""
    match_id, a, _b, watcher = await lobby(connect, alice, bob)
    await watcher.until_tick(2)
    rules = supervisor.loops[match_id].game
    original = rules.apply_tick

    def broken(state: dict[str, Any], tick: int, inputs: dict[int, list[Any]]) -> dict[str, Any]:
        if inputs:
            raise ZeroDivisionError("a bug in the rules")
        return original(state, tick, inputs)

    monkeypatch.setattr(rules, "apply_tick", broken)
    await a.client.send({"type": "input", "input": {"dir": "up"}})
    ending = await watcher.until_over()
    assert ending["match"]["status"] == "aborted"
    assert ending["event"]["move"]["reason"].startswith("the game failed at tick")
    await wait_for(lambda: match_id not in supervisor.loops)
    assert await database_sync_to_async(MatchLease.objects.filter(match_id=match_id).exists)() is False
    assert await database_sync_to_async(services.replay_differences)(await stored(match_id)) == []


async def test_ticks_queued_when_the_process_stops_are_written_before_it_hands_over(
    alice: Player, bob: Player, connect: Callable, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes slowed down (a busy database) leave ticks with inputs queued
    when the process stops: their inputs were shown to everyone, so they
    are written before the match is handed over, and the next owner
    resumes after them."""
    _, first_task, first_stop = await start_supervisor("test-process-a")
    match_id, a, b, watcher = await lobby(connect, alice, bob, {"size": 20})
    await watcher.until_tick(1)
    slow_writes(monkeypatch, 0.15)
    shown = []
    for turn, screen in [("up", a), ("down", b), ("down", a)]:
        await screen.client.send({"type": "input", "input": {"dir": turn}})
        shown.append(await screen.until_applied())
        screen.ticks.clear()
    assert len(await ticks_logged(match_id)) < 3, "some were still queued"
    first_stop.set()
    await first_task
    logged = await ticks_logged(match_id)
    applied = {frame["tick"]: frame["applied"] for frame in shown}  # a frame two screens saw, once
    assert [{"tick": tick, "inputs": applied[tick], "epoch": 1} for tick in sorted(applied)] == logged
    second, second_task, second_stop = await start_supervisor("test-process-b")
    try:
        await wait_for(lambda: match_id in second.loops)
        assert second.loops[match_id].resumed_from >= logged[-1]["tick"]
    finally:
        second_stop.set()
        await second_task


async def test_one_frame_per_process_reaches_every_socket_there_while_any_watches(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor
) -> None:
    """The relay: this process's channel is in the match's frames group
    while a socket of the match is open here, and hands each frame to every
    such socket; a socket that closes leaves the others their frames."""
    match_id, a, b, watcher = await lobby(connect, alice, bob, {"size": 20})
    here = relay()
    await watcher.until_tick(2)
    assert len(here.watchers[match_id]) == 3
    await a.client.close()
    await wait_for(lambda: len(here.watchers[match_id]) == 2)
    shown = (await watcher.until_tick(4))["tick"]
    assert (await b.until_tick(shown))["tick"] >= shown
    late = await Screen.open(await connect(match_id, None))  # a new spectator, at once in the group
    assert (await late.until_tick(late.snapshot["realtime"]["tick"] + 2))["tick"] > late.snapshot["realtime"]["tick"]
    await b.client.close()
    await watcher.client.close()
    await late.client.close()
    await wait_for(lambda: match_id not in here.watchers)


async def test_a_relay_whose_group_was_forgotten_joins_it_again(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis that restarted empty forgets which processes watch a match:
    the relay joins its matches' groups again every REFRESH_SECONDS."""
    monkeypatch.setattr(relay_module, "REFRESH_SECONDS", 0.3)
    match_id, _a, _b, watcher = await lobby(connect, alice, bob, {"size": 40})
    here = relay()
    await watcher.until_tick(2)
    await here.layer.group_discard(broadcast.frames_group(match_id), here.channel)  # as if Redis forgot it
    forgotten = (await watcher.until_tick(0))["tick"]
    await asyncio.sleep(0.2)
    while not await watcher.client.communicator.receive_nothing(0.05):
        await watcher.read()
    silent_from = watcher.ticks[-1]["tick"]
    assert (await watcher.until_tick(silent_from + 3))["tick"] > forgotten, "frames again after a refresh"


async def test_a_match_ending_while_slow_writes_are_queued_is_still_logged_and_released(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes slower than the lease's margin: the loop keeps renewing until
    the tick that ended the match is written, so the ending is kept."""
    match_id, a, _b, watcher = await lobby(connect, alice, bob)
    await watcher.until_tick(1)
    slow_writes(monkeypatch, 0.7)
    for turn in ("up", "left"):  # two logged ticks, then the ending: 2 s of writes behind the ticks
        await a.client.send({"type": "input", "input": {"dir": turn}})
        await a.until_applied()
        a.ticks.clear()
    ending = await watcher.until_over()
    assert ending["match"]["status"] == "finished"
    await wait_for(lambda: match_id not in supervisor.loops, timeout=5)
    assert await database_sync_to_async(MatchLease.objects.filter(match_id=match_id).exists)() is False
    logged = await ticks_logged(match_id)
    # Logged by the owner that ran it: nobody had to take the match over.
    assert [(tick["tick"], tick["epoch"]) for tick in logged][-1] == (ending["match"]["state"]["tick"], 1)


# --- over HTTP: the lobby, creating, joining, the computer ----------------------------------


def bearer(player: Player) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {player.token}"}  # type: ignore[attr-defined]


def test_light_cycles_over_http_and_the_lease_of_an_active_match(alice: Player, bob: Player) -> None:
    http = HttpClient()
    listed = {game["slug"]: game for game in http.get("/api/games").json()["games"]}
    assert listed["lightcycles"]["tick_ms"] == 50
    body = {"game": "lightcycles", "options": SMALL}
    created = http.post("/api/matches", body, content_type="application/json", **bearer(alice))
    assert created.status_code == 201 and created.json()["status"] == "waiting"
    match_id = created.json()["id"]
    waiting = http.get("/api/matches", {"status": "waiting", "game": "lightcycles"}).json()["matches"]
    assert [match["id"] for match in waiting] == [match_id]
    assert not MatchLease.objects.filter(match_id=match_id).exists()
    joined = http.post(f"/api/matches/{match_id}/join", **bearer(bob))
    assert joined.status_code == 200 and joined.json()["status"] == "active"
    row = MatchLease.objects.get(match_id=match_id)
    assert (row.owner, row.channel, row.epoch, row.tick) == ("", "", 0, 0)
    assert row.expires_at < timezone.now() < row.started_at <= timezone.now() + timedelta(milliseconds=200)
    move = http.post(f"/api/matches/{match_id}/moves", {"move": {"dir": "up"}}, content_type="application/json",
                     **bearer(alice))  # fmt: skip
    assert (move.status_code, move.json()["error"]["code"]) == (422, "illegal_move")
    timed = http.post("/api/matches", {**body, "options": {"move_timeout": 30}}, content_type="application/json",
                      **bearer(alice))  # fmt: skip
    assert (timed.status_code, timed.json()["error"]["code"]) == (400, "invalid_options")
    versus = http.post("/api/bots/matches", {"game": "lightcycles", "level": 2, "options": SMALL},
                       content_type="application/json", **bearer(alice))  # fmt: skip
    assert versus.status_code == 201 and versus.json()["status"] == "active"
    assert MatchLease.objects.filter(match_id=versus.json()["id"]).exists()
    turn_based = services.join_match(services.create_match(alice, "tictactoe").match["id"], bob).match
    assert turn_based["status"] == Status.ACTIVE and not MatchLease.objects.filter(match_id=turn_based["id"]).exists()
