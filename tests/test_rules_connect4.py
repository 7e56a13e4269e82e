"""Connect four rules: gravity, the four directions, a full board."""

import pytest

from games.rules import IllegalMove, Result
from games.rules.connect4 import ConnectFour

game = ConnectFour()


def play(*columns: int) -> dict:
    state = game.initial_state(2, {})
    for index, column in enumerate(columns):
        state = game.apply_move(state, index % 2, {"column": column})
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
        game.apply_move(state, 1 - winner, {"column": 5})


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
        ({"column": 7}, "column must be an integer from 0 to 6"),
        ({"column": -1}, "column must be an integer from 0 to 6"),
        ({"column": "3"}, "column must be an integer from 0 to 6"),
        ({"column": False}, "column must be an integer from 0 to 6"),
        ({"cell": 3}, 'a connect-four move is {"column": 0..6}'),
    ],
)
def test_malformed_moves_are_refused(move: dict, reason: str) -> None:
    with pytest.raises(IllegalMove) as refusal:
        game.apply_move(game.initial_state(2, {}), 0, move)
    assert refusal.value.reason == reason


def test_full_column_is_refused() -> None:
    with pytest.raises(IllegalMove, match="column 2 is full"):
        game.apply_move(play(2, 2, 2, 2, 2, 2), 0, {"column": 2})
