"""Battleship: a simultaneous secret setup, then alternating shots; and,
over sockets, that no byte a player or a spectator receives shows a ship
before it is hit."""

import itertools
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from classic_games.battleship import FLEET, SIZE, Battleship
from games.engine import Result
from games.models import Player
from tests.conftest import pair, seated
from tests.rules_helpers import accepted, apply, check_legal_moves, refusal

game = Battleship()

FLEET_A = [
    {"row": 0, "col": 0, "size": 5, "dir": "right"},
    {"row": 2, "col": 0, "size": 4, "dir": "right"},
    {"row": 4, "col": 0, "size": 3, "dir": "right"},
    {"row": 6, "col": 0, "size": 3, "dir": "right"},
    {"row": 8, "col": 0, "size": 2, "dir": "right"},
]
FLEET_B = [
    {"row": 0, "col": 9, "size": 5, "dir": "down"},
    {"row": 0, "col": 7, "size": 4, "dir": "down"},
    {"row": 0, "col": 5, "size": 3, "dir": "down"},
    {"row": 5, "col": 5, "size": 3, "dir": "down"},
    {"row": 9, "col": 0, "size": 2, "dir": "right"},
]
CELLS_B = [[r, 9] for r in range(5)] + [[r, 7] for r in range(4)] + [[r, 5] for r in range(3)]
CELLS_B += [[r, 5] for r in range(5, 8)] + [[9, 0], [9, 1]]


def placed() -> dict:
    state = game.initial_state(2, {})
    state = apply(game, state, 1, {"fleet": FLEET_B})  # either seat may place first
    return apply(game, state, 0, {"fleet": FLEET_A})


def test_setup_is_simultaneous_then_seat_zero_shoots() -> None:
    state = game.initial_state(2, {})
    assert game.turn(state) == [0, 1]
    state = apply(game, state, 1, {"fleet": FLEET_B})
    assert game.turn(state) == [0]
    state = apply(game, state, 0, {"fleet": FLEET_A})
    assert game.turn(state) == [0]


def test_shots_alternate_and_record_hits() -> None:
    state = apply(game, placed(), 0, {"shot": [0, 9]})
    assert state["shots"][0] == [[0, 9, True]]
    assert game.turn(state) == [1]  # a hit does not give another shot
    state = apply(game, state, 1, {"shot": [9, 9]})
    assert state["shots"][1] == [[9, 9, False]]


def test_sinking_the_whole_fleet_wins() -> None:
    state = placed()
    misses = iter([[r, c] for r in range(9, -1, -1) for c in range(9, -1, -1) if [r, c] not in CELLS_B])
    for cell in CELLS_B[:-1]:
        state = apply(game, state, 0, {"shot": cell})
        state = apply(game, state, 1, {"shot": next(misses)})
    assert game.result(state) is None
    state = apply(game, state, 0, {"shot": CELLS_B[-1]})
    assert game.result(state) == Result(winner=0, reason="fleet_sunk")
    assert game.turn(state) == []


def test_views_hide_the_other_fleet_until_the_end() -> None:
    state = placed()
    mine, theirs, spectator = game.view(state, 0), game.view(state, 1), game.view(state, None)
    assert mine["fleets"][0] is not None and mine["fleets"][1] is None
    assert theirs["fleets"][0] is None and theirs["fleets"][1] is not None
    assert spectator["fleets"] == [None, None]
    assert mine["ready"] == [True, True]
    assert "[0, 9]" not in json.dumps(mine["fleets"]) and "[9, 0]" not in json.dumps(mine)
    assert game.view_move(state, {"fleet": FLEET_B}, 1, 0) == {"fleet": "hidden"}
    assert game.view_move(state, {"fleet": FLEET_B}, 1, None) == {"fleet": "hidden"}
    assert game.view_move(state, {"fleet": FLEET_B}, 1, 1) == {"fleet": FLEET_B}
    assert game.view_move(state, {"shot": [1, 1]}, 0, 1) == {"shot": [1, 1]}


def test_sunk_ships_are_public() -> None:
    state = placed()
    for cell, miss in zip([[9, 0], [9, 1]], [[9, 9], [9, 8]], strict=True):
        state = apply(game, state, 0, {"shot": cell})
        state = apply(game, state, 1, {"shot": miss})
    assert game.view(state, None)["sunk"][1] == [[[9, 0], [9, 1]]]


@pytest.mark.parametrize(
    "fleet, reason",
    [
        (FLEET_A[:4], "one ship of each size"),
        ([*FLEET_A[:4], {"row": 8, "col": 0, "size": 3, "dir": "right"}], "one ship of each size"),
        ([{**FLEET_A[0], "col": 6}, *FLEET_A[1:]], "does not fit"),
        ([{**FLEET_A[0], "dir": "up"}, *FLEET_A[1:]], "fleet.0.dir: Input should be 'right' or 'down'"),
        ([{**FLEET_A[0], "row": "0"}, *FLEET_A[1:]], "fleet.0.row: Input should be a valid integer"),
        ([*FLEET_A[:4], {**FLEET_A[4], "size": True}], "fleet.4.size: Input should be a valid integer"),
        ([*FLEET_A[:4], {"row": 8, "col": 0, "size": 2}], "fleet.4.dir: Field required"),
        ([{**FLEET_A[1], "row": 0}, FLEET_A[0], *FLEET_A[2:]], "may not overlap"),
        ("ships", "fleet: Input should be a valid list"),
    ],
)
def test_bad_fleets_are_refused(fleet: object, reason: str) -> None:
    assert reason in refusal(game, game.initial_state(2, {}), 0, {"fleet": fleet})


@pytest.mark.parametrize(
    "move, reason",
    [
        ({"shot": [10, 0]}, "shot.0: Input should be less than or equal to 9"),
        ({"shot": [0]}, "shot: List should have at least 2 items"),
        ({"shot": ["a", 1]}, "shot.0: Input should be a valid integer"),
        ({"shot": (1, 1)}, "shot: Input should be a valid list"),
        ({"fleet": FLEET_A}, "a shot is"),
        ({"shot": [1, 1], "x": 1}, "x: Extra inputs are not permitted"),
        ({"shot": [1, 1], "fleet": FLEET_A}, "a battleship move is"),
        ({"shot": [1, 1], "fleet": None}, "a battleship move is"),
        ({"shot": None}, "a battleship move is"),
        ({}, "a battleship move is"),
    ],
)
def test_bad_shots_are_refused(move: dict, reason: str) -> None:
    assert reason in refusal(game, placed(), 0, move)


def test_shooting_before_placing_and_twice_at_a_cell_are_refused() -> None:
    assert refusal(game, game.initial_state(2, {}), 0, {"shot": [0, 0]}) == "place your fleet first"
    state = apply(game, apply(game, placed(), 0, {"shot": [5, 5]}), 1, {"shot": [0, 0]})
    assert refusal(game, state, 0, {"shot": [5, 5]}) == "you already shot at 5,5"


# --- legal moves --------------------------------------------------------------

SHOTS = [{"shot": [row, col]} for row in range(-1, SIZE + 1) for col in range(-1, SIZE + 1)]


def test_setup_lists_fleets_lazily_each_placement_once() -> None:
    state = game.initial_state(2, {})
    first = list(itertools.islice(game.legal_moves(state, 0), 2000))
    assert len(first) == 2000
    for move in first[:50] + first[-50:]:
        assert apply(game, state, 0, move)["fleets"][0] is not None
    # The same placement is never listed twice, not even with the two
    # ships of size 3 swapped.
    placements = {frozenset(json.dumps(ship, sort_keys=True) for ship in move["fleet"]) for move in first}
    assert len(placements) == len(first)
    assert [ship["size"] for ship in first[0]["fleet"]] == list(FLEET)


def test_random_fleets_are_legal_and_varied() -> None:
    state = game.initial_state(2, {})
    rng = random.Random(3)
    fleets = [game.random_move(state, seat, rng) for seat in (0, 1) for _ in range(100)]
    assert all(accepted(game, state, 0, fleet) for fleet in fleets)
    assert len({json.dumps(fleet) for fleet in fleets}) == len(fleets)
    sizes = {ship["size"] for fleet in fleets for ship in fleet["fleet"] if ship["dir"] == "down"}
    assert sizes == set(FLEET)


def test_the_battle_lists_every_cell_not_shot_at() -> None:
    state = placed()
    moves = list(game.legal_moves(state, 0))
    assert len(moves) == SIZE * SIZE and moves[0] == {"shot": [0, 0]} and moves[-1] == {"shot": [9, 9]}
    assert list(game.legal_moves(state, 1)) == []
    state = apply(game, state, 0, {"shot": [5, 5]})
    assert {"shot": [5, 5]} in list(game.legal_moves(state, 1))
    assert len(list(game.legal_moves(state, 1))) == SIZE * SIZE
    state = apply(game, state, 1, {"shot": [0, 0]})
    assert {"shot": [5, 5]} not in list(game.legal_moves(state, 0))


def test_a_seat_that_placed_its_fleet_has_no_moves_until_the_battle() -> None:
    state = apply(game, game.initial_state(2, {}), 1, {"fleet": FLEET_B})
    assert list(game.legal_moves(state, 1)) == [] and game.random_move(state, 1, random.Random(0)) is None
    assert next(game.legal_moves(state, 0))["fleet"]


@pytest.mark.parametrize("seed", range(6))
def test_legal_moves_are_exactly_the_moves_the_rules_accept(seed: int) -> None:
    rng = random.Random(seed)
    state = game.initial_state(2, {})
    check_legal_moves(game, state, [], limit=200)  # setup: too many to list
    while game.turn(state):
        seat = rng.choice(game.turn(state))
        state = apply(game, state, seat, game.random_move(state, seat, rng))
        if all(state["fleets"]) and len(state["shots"][1]) % 10 == 0:
            check_legal_moves(game, state, SHOTS)
    check_legal_moves(game, state, SHOTS)
    assert game.result(state) is not None


# --- over sockets: every byte a player or a spectator receives ---------------


def unshot_cells_of_bob(text: str, shot: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every cell anywhere in a JSON message, as a [row, col] pair or a
    {"row", "col"} object, that is a cell of bob's fleet alice has not shot at
    yet (alice's own fleet shares none)."""
    found: set[tuple[int, int]] = set()

    def check(row: Any, col: Any) -> None:
        if type(row) is int and type(col) is int and [row, col] in CELLS_B and (row, col) not in shot:
            found.add((row, col))

    def walk(value: Any) -> None:
        if isinstance(value, list):
            if len(value) == 2:
                check(*value)
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            check(value.get("row"), value.get("col"))
            for item in value.values():
                walk(item)

    walk(json.loads(text))
    return found


@pytest.mark.django_db(transaction=True)
async def test_battleship_never_leaks_the_opponents_fleet(alice: Player, bob: Player, connect: Callable) -> None:
    """Every byte alice's socket, a spectator's socket, alice's HTTP calls and
    anonymous HTTP calls receive until the end: never a cell of bob's fleet
    that alice has not already hit, in any message, in any form."""
    match_id = await seated(alice, bob, "battleship")
    a, b = await pair(connect, match_id, alice, bob)
    watcher = await connect(match_id)
    await watcher.next("snapshot")
    shot: set[tuple[int, int]] = set()
    leaks: list[tuple[str, set]] = []
    for name, socket in (("alice", a), ("watcher", watcher)):
        original = socket.communicator.receive_json_from

        async def recording(timeout: float = 3, original: Any = original, name: str = name) -> dict:
            output = await socket_output(original.__self__, timeout)
            if found := unshot_cells_of_bob(output, shot):
                leaks.append((name, found))
            return json.loads(output)

        socket.communicator.receive_json_from = recording

    http = HttpClient()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"}

    async def check_http_views() -> None:
        for path, headers in [("", auth), ("/events", auth), ("", {}), ("/events", {})]:
            response = await database_sync_to_async(http.get)(f"/api/matches/{match_id}{path}", **headers)
            if found := unshot_cells_of_bob(response.content.decode(), shot):
                leaks.append((f"GET {path or '/'}", found))

    await b.move({"fleet": FLEET_B})
    hidden = await a.next("event")
    assert hidden["event"]["move"] == {"fleet": "hidden"}
    assert hidden["match"]["state"]["ready"] == [False, True] and hidden["match"]["turn"] == [0]
    assert (await b.next("event"))["event"]["move"] == {"fleet": FLEET_B}
    await a.move({"fleet": FLEET_A})
    await a.next("event")
    await b.next("event")
    await watcher.next("event")
    await watcher.next("event")
    for socket in (a, watcher):  # a replay of the whole log, as a reconnecting client asks for
        await socket.send({"type": "resync", "after": 0})
        for _ in range(4):
            await socket.next("event")
    await check_http_views()

    # Play it out, checking every message: alice sinks bob's fleet.
    misses = iter([[r, c] for r in range(9, -1, -1) for c in range(9, -1, -1) if [r, c] not in CELLS_B])
    for index, cell in enumerate(CELLS_B[:-1]):
        await a.move({"shot": cell})
        shot.add((cell[0], cell[1]))
        await a.next("event")
        await watcher.next("event")
        await b.next("event")
        await b.move({"shot": next(misses)})
        await a.next("event")
        await watcher.next("event")
        await b.next("event")
        if index % 5 == 0:
            await check_http_views()
    assert leaks == []
    await a.move({"shot": CELLS_B[-1]})
    event = await a.next("event")
    assert event["match"]["result"] == {"winner": 0, "reason": "fleet_sunk"}
    assert event["match"]["state"]["fleets"][1] is not None  # over: now it may be shown
    events = (await database_sync_to_async(http.get)(f"/api/matches/{match_id}/events", **auth)).json()["events"]
    assert {"fleet": FLEET_B} in [e["move"] for e in events]


async def socket_output(communicator: Any, timeout: float) -> str:
    message = await communicator.receive_output(timeout)
    assert message["type"] == "websocket.send", message
    return message["text"]
