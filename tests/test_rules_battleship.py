"""Battleship: a simultaneous secret setup, then alternating shots."""

import json

import pytest

from games.rules import IllegalMove, Result
from games.rules.battleship import Battleship

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
    state = game.apply_move(state, 1, {"fleet": FLEET_B})  # either seat may place first
    return game.apply_move(state, 0, {"fleet": FLEET_A})


def test_setup_is_simultaneous_then_seat_zero_shoots() -> None:
    state = game.initial_state(2, {})
    assert game.turn(state) == [0, 1]
    state = game.apply_move(state, 1, {"fleet": FLEET_B})
    assert game.turn(state) == [0]
    state = game.apply_move(state, 0, {"fleet": FLEET_A})
    assert game.turn(state) == [0]


def test_shots_alternate_and_record_hits() -> None:
    state = game.apply_move(placed(), 0, {"shot": [0, 9]})
    assert state["shots"][0] == [[0, 9, True]]
    assert game.turn(state) == [1]  # a hit does not give another shot
    state = game.apply_move(state, 1, {"shot": [9, 9]})
    assert state["shots"][1] == [[9, 9, False]]


def test_sinking_the_whole_fleet_wins() -> None:
    state = placed()
    misses = iter([[r, c] for r in range(9, -1, -1) for c in range(9, -1, -1) if [r, c] not in CELLS_B])
    for cell in CELLS_B[:-1]:
        state = game.apply_move(state, 0, {"shot": cell})
        state = game.apply_move(state, 1, {"shot": next(misses)})
    assert game.result(state) is None
    state = game.apply_move(state, 0, {"shot": CELLS_B[-1]})
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
        state = game.apply_move(state, 0, {"shot": cell})
        state = game.apply_move(state, 1, {"shot": miss})
    assert game.view(state, None)["sunk"][1] == [[[9, 0], [9, 1]]]


@pytest.mark.parametrize(
    "fleet, reason",
    [
        (FLEET_A[:4], "one ship of each size"),
        ([*FLEET_A[:4], {"row": 8, "col": 0, "size": 3, "dir": "right"}], "one ship of each size"),
        ([{**FLEET_A[0], "col": 6}, *FLEET_A[1:]], "does not fit"),
        ([{**FLEET_A[0], "dir": "up"}, *FLEET_A[1:]], "a fleet is"),
        ([{**FLEET_A[0], "row": "0"}, *FLEET_A[1:]], "row and col must be integers"),
        ([{**FLEET_A[1], "row": 0}, FLEET_A[0], *FLEET_A[2:]], "may not overlap"),
        ("ships", "a fleet is"),
    ],
)
def test_bad_fleets_are_refused(fleet: object, reason: str) -> None:
    with pytest.raises(IllegalMove, match=reason):
        game.apply_move(game.initial_state(2, {}), 0, {"fleet": fleet})


@pytest.mark.parametrize(
    "move, reason",
    [
        ({"shot": [10, 0]}, "from 0 to 9"),
        ({"shot": [0]}, "a shot is"),
        ({"shot": ["a", 1]}, "a shot is"),
        ({"fleet": FLEET_A}, "a shot is"),
        ({"shot": [1, 1], "x": 1}, "a battleship move is"),
    ],
)
def test_bad_shots_are_refused(move: dict, reason: str) -> None:
    with pytest.raises(IllegalMove, match=reason):
        game.apply_move(placed(), 0, move)


def test_shooting_before_placing_and_twice_at_a_cell_are_refused() -> None:
    with pytest.raises(IllegalMove, match="place your fleet first"):
        game.apply_move(game.initial_state(2, {}), 0, {"shot": [0, 0]})
    state = game.apply_move(game.apply_move(placed(), 0, {"shot": [5, 5]}), 1, {"shot": [0, 0]})
    with pytest.raises(IllegalMove, match="already shot at 5,5"):
        game.apply_move(state, 0, {"shot": [5, 5]})
