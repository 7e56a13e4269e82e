"""Connect four rules: gravity, the four directions, a full board."""

import random

import pytest

from classic_games.connect4 import ConnectFour
from games.engine import IllegalMove, Result
from tests.rules_helpers import apply, check_legal_moves, refusal

game = ConnectFour()


def play(*columns: int) -> dict:
    state = game.initial_state(2, {})
    for index, column in enumerate(columns):
        state = apply(game, state, index % 2, {"column": column})
    return state


def test_discs_fall_to_the_lowest_free_row() -> None:
    state = play(3, 3, 3)
    assert state["columns"][3] == ["R", "Y", "R"]
    assert game.turn(state) == [1]


@pytest.mark.parametrize(
    "columns, winner",
    [
        ((0, 0, 1, 1, 2, 2, 3), 0),  # across
        ((0, 1, 0, 1, 0, 1, 0), 0),  # up
        ((0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3), 0),  # rising diagonal
        ((3, 2, 2, 1, 1, 0, 1, 0, 0, 6, 0), 0),  # falling diagonal
        ((6, 0, 0, 1, 1, 2, 2, 3), 1),  # yellow across
    ],
)
def test_four_in_a_row_in_every_direction_wins(columns: tuple[int, ...], winner: int) -> None:
    state = play(*columns)
    assert game.result(state) == Result(winner=winner, reason="four_in_a_row")
    assert game.turn(state) == []
    with pytest.raises(IllegalMove):
        apply(game, state, 1 - winner, {"column": 5})


def test_three_in_a_row_is_not_a_win() -> None:
    assert game.result(play(0, 0, 1, 1, 2, 2)) is None


def test_full_board_is_a_draw() -> None:
    # Fill column pairs in an order that never lines up four.
    order = [0, 1] * 3 + [1, 0] * 3 + [2, 3] * 3 + [3, 2] * 3 + [4, 5] * 3 + [5, 4] * 3 + [6] * 6
    state = play(*order)
    assert all(len(column) == 6 for column in state["columns"])
    assert game.result(state) == Result(winner=None, reason="board_full")


@pytest.mark.parametrize(
    "move, reason",
    [
        ({"column": 7}, "column: Input should be less than or equal to 6"),
        ({"column": -1}, "column: Input should be greater than or equal to 0"),
        ({"column": "3"}, "column: Input should be a valid integer"),
        ({"column": False}, "column: Input should be a valid integer"),
        ({"cell": 3}, "column: Field required"),
    ],
)
def test_malformed_moves_are_refused(move: dict, reason: str) -> None:
    assert reason in refusal(game, game.initial_state(2, {}), 0, move)


def test_full_column_is_refused() -> None:
    assert refusal(game, play(2, 2, 2, 2, 2, 2), 0, {"column": 2}) == "column 2 is full"


# --- legal moves --------------------------------------------------------------

CANDIDATES = [{"column": column} for column in range(-1, 8)]


def test_the_empty_board_has_seven_moves_in_order() -> None:
    state = game.initial_state(2, {})
    assert list(game.legal_moves(state, 0)) == [{"column": column} for column in range(7)]
    assert list(game.legal_moves(state, 1)) == []


def test_a_full_column_is_not_listed() -> None:
    state = play(2, 2, 2, 2, 2, 2)
    assert {"column": 2} not in list(game.legal_moves(state, 0))
    assert len(list(game.legal_moves(state, 0))) == 6


@pytest.mark.parametrize("seed", range(20))
def test_legal_moves_are_exactly_the_moves_the_rules_accept(seed: int) -> None:
    rng = random.Random(seed)
    state = game.initial_state(2, {})
    while True:
        check_legal_moves(game, state, CANDIDATES)
        if not game.turn(state):
            break
        seat = game.turn(state)[0]
        state = apply(game, state, seat, game.random_move(state, seat, rng))
