"""Every game to every kind of ending over WebSockets: wins, draws, claims,
resignation, agreed draws, clocks and move timeouts that flag with nobody
sending anything, abandonment, rematches, chat, and what each viewer of every game may see."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from games import quotas
from games.clock import run_clock
from games.engine import all_games, get_game
from games.engine.realtime import RealtimeGame
from games.models import ChatMessage, Match, Player
from tests.conftest import log_ticks_as_owner, moves, pair, seated
from tests.rules_helpers import random_playout, random_ticks, states_of, tick_states

pytestmark = pytest.mark.django_db(transaction=True)


# --- every game, every ending ---------------------------------------------


async def test_connect_four_win_and_draw(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "connect4")
    a, b = await pair(connect, match_id, alice, bob)
    last = await moves(a, b, [(i % 2, {"column": c}) for i, c in enumerate([0, 1, 0, 1, 0, 1, 0])])
    assert last["match"]["result"] == {"winner": 0, "reason": "four_in_a_row"}

    match_id = await seated(alice, bob, "connect4")
    a, b = await pair(connect, match_id, alice, bob)
    order = [0, 1] * 3 + [1, 0] * 3 + [2, 3] * 3 + [3, 2] * 3 + [4, 5] * 3 + [5, 4] * 3 + [6] * 6
    last = await moves(a, b, [(i % 2, {"column": c}) for i, c in enumerate(order)])
    assert last["match"]["result"] == {"winner": None, "reason": "board_full"}


async def test_chess_checkmate_stalemate_and_claimed_repetition(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "chess")
    a, b = await pair(connect, match_id, alice, bob)
    last = await moves(a, b, [(i % 2, {"uci": u}) for i, u in enumerate(["f2f3", "e7e5", "g2g4", "d8h4"])])
    assert last["match"]["result"] == {"winner": 1, "reason": "checkmate"}
    assert last["match"]["state"]["san"] == ["f3", "e5", "g4", "Qh4#"]

    loyd = ["e2e3", "a7a5", "d1h5", "a8a6", "h5a5", "h7h5", "h2h4", "a6h6", "a5c7", "f7f6", "c7d7", "e8f7",
            "d7b7", "d8d3", "b7b8", "d3h7", "b8c8", "f7g6", "c8e6"]  # fmt: skip
    match_id = await seated(alice, bob, "chess")
    a, b = await pair(connect, match_id, alice, bob)
    last = await moves(a, b, [(i % 2, {"uci": u}) for i, u in enumerate(loyd)])
    assert last["match"]["result"] == {"winner": None, "reason": "stalemate"}

    match_id = await seated(alice, bob, "chess")
    a, b = await pair(connect, match_id, alice, bob)
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"] * 2
    await moves(a, b, [(i % 2, {"uci": u}) for i, u in enumerate(shuffle)])
    last = await moves(a, b, [(0, {"claim_draw": True})])
    assert last["match"]["result"] == {"winner": None, "reason": "threefold_repetition"}


async def test_chess_insufficient_material_from_a_custom_position(
    alice: Player, bob: Player, connect: Callable
) -> None:
    match_id = await seated(alice, bob, "chess", {"fen": "8/8/8/4k3/8/1n6/3PK3/8 b - - 0 1"})
    a, b = await pair(connect, match_id, alice, bob)
    last = await moves(a, b, [(1, {"uci": "b3d2"})])
    assert last["match"]["result"] == {"winner": None, "reason": "insufficient_material"}


async def test_resign_ends_the_match_for_the_sender(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "chess")
    a, b = await pair(connect, match_id, alice, bob)
    await b.send({"type": "resign", "ref": "r"})
    for socket in (a, b):
        event = await socket.next("event")
        assert event["event"]["kind"] == "resign" and event["event"]["seat"] == 1
        assert event["match"]["result"] == {"winner": 0, "reason": "resign"}
    await a.send({"type": "resign"})
    assert (await a.next("error"))["code"] == "match_not_active"


async def test_draw_offers(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "connect4")
    a, b = await pair(connect, match_id, alice, bob)
    await b.send({"type": "accept_draw"})
    assert (await b.next("error"))["code"] == "no_draw_offer"
    await a.send({"type": "offer_draw"})
    offered = await b.next("event")
    assert offered["event"]["kind"] == "offer_draw" and offered["match"]["draw_offer"] == 0
    await a.next("event")
    await a.send({"type": "offer_draw"})
    assert (await a.next("error"))["code"] == "draw_not_allowed"
    await a.send({"type": "accept_draw"})  # your own offer is not yours to accept
    assert (await a.next("error"))["code"] == "no_draw_offer"
    declined = await moves(a, b, [(0, {"column": 3}), (1, {"column": 3})])  # bob moving declines
    assert declined["match"]["draw_offer"] is None
    await a.send({"type": "offer_draw"})
    await a.next("event")
    await b.next("event")
    await b.send({"type": "accept_draw"})
    for socket in (a, b):
        assert (await socket.next("event"))["match"]["result"] == {"winner": None, "reason": "agreement"}


async def test_rematch_from_both_players_rotates_seats(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "tictactoe")
    a, b = await pair(connect, match_id, alice, bob)
    await a.send({"type": "rematch"})
    assert (await a.next("error"))["code"] == "match_not_active"
    await a.send({"type": "resign"})
    await a.next("event")
    await b.next("event")
    await a.send({"type": "rematch"})
    assert (await b.next("event"))["match"]["rematch"] == {"seats": [0], "match": None}
    await a.next("event")
    await a.send({"type": "rematch"})
    assert (await a.next("error"))["code"] == "rematch_requested"
    await b.send({"type": "rematch"})
    for socket in (a, b):
        # The announcement and the logged event arrive in either order.
        got = {m["type"]: m for m in [await socket.receive(), await socket.receive()] if m["type"] != "presence"}
        new = got["rematch"]["match"]
        assert new["status"] == "active" and new["id"] != match_id
        assert [p["id"] for p in new["players"]] == [bob.pk, alice.pk]  # seats rotated
        assert got["event"]["event"]["kind"] == "rematch" and got["event"]["match"]["rematch"]["match"] == new["id"]
    c = await connect(new["id"], bob)
    assert (await c.next("snapshot"))["match"]["turn"] == [0]
    await c.move({"cell": 4})
    assert (await c.next("event"))["event"]["seat"] == 0  # bob now moves first


async def test_chat_reaches_everyone_and_is_stored(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "tictactoe")
    a, b = await pair(connect, match_id, alice, bob)
    watcher = await connect(match_id)
    await watcher.next("snapshot")
    await a.send({"type": "chat", "text": "  good luck  "})
    for socket in (a, b, watcher):
        line = await socket.next("chat")
        assert (line["seat"], line["name"], line["text"]) == (0, "alice", "good luck")
        assert line["at"].endswith("Z")
    await a.send({"type": "chat", "text": "x" * 501, "ref": 1})
    assert (await a.next("error"))["code"] == "bad_message"
    await a.send({"type": "chat", "text": "   "})
    assert (await a.next("error"))["code"] == "bad_message"
    await watcher.send({"type": "chat", "text": "hi"})
    assert (await watcher.next("error"))["code"] == "not_authenticated"
    await b.nothing_but_presence()
    stored = await database_sync_to_async(list)(
        ChatMessage.objects.filter(match_id=match_id).values_list("text", "seat")
    )
    assert stored == [("good luck", 0)]


# --- hidden information -----------------------------------------------------


@pytest.mark.parametrize("game", [game.slug for game in all_games() if not isinstance(game, RealtimeGame)])
async def test_every_viewer_gets_only_its_own_view(alice: Player, bob: Player, connect: Callable, game: str) -> None:
    """Every message each seat's socket and a spectator's socket receive, a
    resync from the start, and the HTTP views, carry exactly the game's view
    of the state and of each move for that viewer (which, for a game that
    hides anything, the property tests show tells a viewer nothing of the
    others' hidden moves): never the server's own state or a raw move."""
    quotas.reset()  # the resyncs below count per address, across tests
    rules = get_game(game)
    played = random_playout(rules, 8, limit=14)  # a resync of up to 16 events gets events
    states = states_of(rules, played)
    match_id = await seated(alice, bob, game)
    a, b = await pair(connect, match_id, alice, bob)
    watcher = await connect(match_id)
    await watcher.next("snapshot")
    sockets = {0: a, 1: b, None: watcher}
    http = HttpClient()
    auth = {0: {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"}, None: {}}

    def check(message: dict, viewer: int | None, index: int) -> None:
        seat, move = played[index]
        assert message["match"]["state"] == rules.view(states[index], viewer)
        assert message["event"]["move"] == rules.view_move(states[index], move, seat, viewer)

    for index, (seat, move) in enumerate(played):
        await sockets[seat].move(move)
        for viewer, socket in sockets.items():
            check(await socket.next("event"), viewer, index)
    for viewer in (0, None):  # a replay of the whole log, as a reconnecting client asks for
        await sockets[viewer].send({"type": "resync", "after": 2})
        for index in range(len(played)):
            check(await sockets[viewer].next("event"), viewer, index)
        match = (await database_sync_to_async(http.get)(f"/api/matches/{match_id}", **auth[viewer])).json()
        assert match["state"] == rules.view(states[-1], viewer)
        path = f"/api/matches/{match_id}/events?after=2"
        events = (await database_sync_to_async(http.get)(path, **auth[viewer])).json()["events"]
        expected = [rules.view_move(states[-1], move, seat, viewer) for seat, move in played]
        assert [event["move"] for event in events] == json.loads(json.dumps(expected))


@pytest.mark.parametrize("game", [game.slug for game in all_games() if isinstance(game, RealtimeGame)])
async def test_every_viewer_of_a_real_time_match_sees_the_same(
    alice: Player, bob: Player, connect: Callable, game: str
) -> None:
    """A real-time game hides nothing (the registry refuses one that would):
    each logged tick reaches both seats and a spectator with the same state
    and inputs, as do a resync and the HTTP views. (Its tick frames are one
    text for every viewer: tests/test_realtime.py.)"""
    quotas.reset()
    rules = get_game(game)
    assert isinstance(rules, RealtimeGame)
    ticks = random_ticks(rules, 8, limit=40)[:12]
    states = tick_states(rules, ticks)
    match_id = await seated(alice, bob, game)
    a, b = await pair(connect, match_id, alice, bob)
    watcher = await connect(match_id)
    await watcher.next("snapshot")

    def check(message: dict, index: int) -> None:
        tick, inputs = ticks[index]
        assert message["match"]["state"] == states[index]
        assert message["event"]["move"] == {"tick": tick, "inputs": [list(entry) for entry in inputs], "epoch": 1}

    await database_sync_to_async(log_ticks_as_owner)(match_id, ticks)
    for socket in (a, b, watcher):
        for index in range(len(ticks)):
            check(await socket.next("event"), index)
    await watcher.send({"type": "resync", "after": 2})
    for index in range(len(ticks)):
        check(await watcher.next("event"), index)
    http = HttpClient()
    match = (await database_sync_to_async(http.get)(f"/api/matches/{match_id}")).json()
    assert match["state"] == states[-1]


# --- time -------------------------------------------------------------------


async def test_clock_flags_with_no_message_from_anyone(
    alice: Player, bob: Player, connect: Callable, clock_loop: None
) -> None:
    match_id = await seated(alice, bob, "chess", {"clock": {"initial": 1, "increment": 0}})
    a, b = await connect(match_id, alice), await connect(match_id, bob)
    before = (await a.next("snapshot"))["match"]["clock"]
    await b.next("snapshot")
    await a.move({"uci": "e2e4"})
    moved = await a.next("event")
    await b.next("event")
    clock = moved["match"]["clock"]
    assert clock["running"] == [1] and clock["read_at"] == moved["event"]["at"]
    # White's clock ran from the start to the move, and only White's (however slow the machine).
    thought = (datetime.fromisoformat(clock["read_at"]) - datetime.fromisoformat(before["read_at"])).total_seconds()
    assert abs(clock["remaining"][0] - (before["remaining"][0] - 1000 * thought)) <= 1
    assert 0 < clock["remaining"][0] < 1000 and clock["remaining"][1] == 1000
    deadline = datetime.fromisoformat(moved["match"]["deadline"])
    flagged = await b.next("event", timeout=5)
    assert flagged["event"]["kind"] == "timeout" and flagged["event"]["seat"] == 1
    assert flagged["match"]["result"] == {"winner": 0, "reason": "timeout"}
    assert flagged["match"]["clock"]["remaining"][1] == 0
    late = (datetime.fromisoformat(flagged["event"]["at"]) - deadline).total_seconds()
    assert 0 <= late < 1.0, f"flag applied {late:.3f}s after the deadline"
    assert (await a.next("event"))["seq"] == flagged["seq"]


async def test_flag_against_a_bare_king_is_a_draw(
    alice: Player, bob: Player, clock_loop: None, connect: Callable
) -> None:
    options = {"clock": {"initial": 1, "increment": 0}, "fen": "8/8/8/4k3/8/8/3QK3/6n1 w - - 0 1"}
    match_id = await seated(alice, bob, "chess", options)
    a = await connect(match_id, alice)
    await a.next("snapshot")
    flagged = await a.next("event", timeout=5)
    assert flagged["match"]["result"] == {"winner": None, "reason": "timeout_vs_insufficient_material"}


async def test_move_timeout_for_any_turn_based_game(
    alice: Player, bob: Player, connect: Callable, clock_loop: None
) -> None:
    match_id = await seated(alice, bob, "tictactoe", {"move_timeout": 1})
    a = await connect(match_id, alice)
    await a.next("snapshot")
    assert (await a.next("event", timeout=5))["match"]["result"] == {"winner": 1, "reason": "timeout"}


async def test_increment_is_added_after_each_move(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "chess", {"clock": {"initial": 60, "increment": 2}})
    a, b = await pair(connect, match_id, alice, bob)
    last = await moves(a, b, [(0, {"uci": "e2e4"})])
    assert 61_000 < last["match"]["clock"]["remaining"][0] <= 62_000


async def test_a_move_after_the_deadline_loses_on_time_instead(alice: Player, bob: Player, connect: Callable) -> None:
    """No worker runs here: the late move itself settles the flag first, and
    is then refused. One outcome, whichever arrives first."""
    match_id = await seated(alice, bob, "chess", {"clock": {"initial": 1, "increment": 0}})
    a = await connect(match_id, alice)
    await a.next("snapshot")
    await asyncio.sleep(1.1)
    await a.move({"uci": "e2e4"})
    flagged = await a.next("event")
    assert flagged["event"]["kind"] == "timeout" and flagged["match"]["result"]["winner"] == 1
    assert (await a.next("error"))["code"] == "match_not_active"
    match = await database_sync_to_async(Match.objects.get)(pk=match_id)
    assert match.state["uci"] == []


async def test_player_away_too_long_on_their_move_loses(
    alice: Player, bob: Player, connect: Callable, clock_loop: None
) -> None:
    match_id = await seated(alice, bob, "tictactoe", {"abandon_timeout": 1})
    a, b = await pair(connect, match_id, alice, bob)
    await a.close()
    assert (await b.presence(0, False))["seq"] == 2
    abandoned = await b.next("event", timeout=5)
    assert abandoned["event"]["kind"] == "abandon" and abandoned["event"]["seat"] == 0
    assert abandoned["match"]["result"] == {"winner": 1, "reason": "abandoned"}


async def test_reconnecting_in_time_resumes_the_same_seat(
    alice: Player, bob: Player, connect: Callable, clock_loop: None
) -> None:
    match_id = await seated(alice, bob, "tictactoe", {"abandon_timeout": 2})
    a, b = await pair(connect, match_id, alice, bob)
    await a.close()
    await b.move({"cell": 0})
    assert (await b.next("error"))["code"] == "not_your_turn"
    await asyncio.sleep(0.5)
    again = await connect(match_id, alice)
    snapshot = await again.next("snapshot")
    assert snapshot["match"]["turn"] == [0] and snapshot["match"]["deadline"] is None
    await asyncio.sleep(2)
    await again.move({"cell": 4}, seq=snapshot["match"]["seq"])
    assert (await again.next("event"))["event"]["seat"] == 0  # not abandoned: it was back in time


async def test_a_clock_started_after_the_deadline_still_flags(alice: Player, bob: Player, connect: Callable) -> None:
    """Deadlines are data: a worker that was down when one passed (a restart)
    applies it as soon as it runs, with nobody sending anything."""
    match_id = await seated(alice, bob, "tictactoe", {"move_timeout": 1})
    b = await connect(match_id, bob)
    await b.next("snapshot")
    await asyncio.sleep(1.2)  # the deadline passes with no clock running
    stop = asyncio.Event()
    worker = asyncio.create_task(run_clock(0.05, stop))
    try:
        flagged = await b.next("event", timeout=3)
    finally:
        stop.set()
        await worker
    assert flagged["event"]["kind"] == "timeout" and flagged["match"]["result"] == {"winner": 1, "reason": "timeout"}


async def test_the_embedded_clock_starts_with_any_request_even_http(alice: Player, bob: Player, settings: Any) -> None:
    """With the clock in the server process (the embedded default), a server
    that only ever receives HTTP still flags overdue matches."""
    from channels.testing import HttpCommunicator

    from gameproject.asgi import application
    from games import background

    settings.GAMES_CLOCK_IN_PROCESS = True
    match_id = await seated(alice, bob, "tictactoe", {"move_timeout": 1})
    await asyncio.sleep(1.1)
    request = HttpCommunicator(application, "GET", f"/api/matches/{match_id}", headers=[(b"host", b"localhost")])
    response = await request.get_response()
    assert response["status"] == 200
    try:
        for _ in range(40):
            match = await database_sync_to_async(Match.objects.get)(pk=match_id)
            if match.status == "finished":
                break
            await asyncio.sleep(0.05)
        assert match.result == {"winner": 1, "reason": "timeout"}
    finally:
        await background.stop()
