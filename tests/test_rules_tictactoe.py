"""The tic-tac-toe rules as plain functions: no database, no sockets."""

import pytest

from games.rules import GAMES, IllegalMove, InvalidOptions, Result, UnknownGame, get_game
from games.rules.tictactoe import TicTacToe

game = TicTacToe()


def play(*cells: int) -> dict:
    state = game.initial_state(2, {})
    for index, cell in enumerate(cells):
        state = game.apply_move(state, index % 2, {"cell": cell})
    return state


def test_registry_maps_slug_to_game() -> None:
    assert get_game("tictactoe") is GAMES["tictactoe"]
    with pytest.raises(UnknownGame):
        get_game("nope")


def test_x_moves_first_and_turns_alternate() -> None:
    state = game.initial_state(2, {})
    assert game.turn(state) == [0]
    state = game.apply_move(state, 0, {"cell": 4})
    assert state["board"][4] == "X"
    assert game.turn(state) == [1]
    state = game.apply_move(state, 1, {"cell": 0})
    assert state["board"][0] == "O"
    assert game.turn(state) == [0]


def test_apply_move_does_not_mutate_the_given_state() -> None:
    state = game.initial_state(2, {})
    game.apply_move(state, 0, {"cell": 0})
    assert state == {"board": [None] * 9}


@pytest.mark.parametrize(
    "cells, winner",
    [
        ((0, 3, 1, 4, 2), 0),  # top row
        ((0, 1, 3, 2, 6), 0),  # left column
        ((0, 1, 4, 2, 8), 0),  # diagonal
        ((0, 2, 1, 4, 3, 6), 1),  # anti-diagonal by O
    ],
)
def test_three_in_a_row_wins(cells: tuple[int, ...], winner: int) -> None:
    state = play(*cells)
    assert game.result(state) == Result(winner=winner, reason="three_in_a_row")
    assert game.turn(state) == []


def test_full_board_without_a_line_is_a_draw() -> None:
    state = play(0, 1, 2, 4, 3, 5, 7, 6, 8)
    assert game.result(state) == Result(winner=None, reason="board_full")
    assert game.turn(state) == []


def test_unfinished_game_has_no_result() -> None:
    assert game.result(play(0, 4)) is None


@pytest.mark.parametrize(
    "move, reason",
    [
        ({"cell": 9}, "cell must be an integer from 0 to 8"),
        ({"cell": -1}, "cell must be an integer from 0 to 8"),
        ({"cell": "4"}, "cell must be an integer from 0 to 8"),
        ({"cell": True}, "cell must be an integer from 0 to 8"),
        ({"cell": 4.0}, "cell must be an integer from 0 to 8"),
        ({}, 'a tic-tac-toe move is {"cell": 0..8}'),
        ({"cell": 1, "extra": 2}, 'a tic-tac-toe move is {"cell": 0..8}'),
    ],
)
def test_malformed_moves_are_refused_with_a_reason(move: dict, reason: str) -> None:
    with pytest.raises(IllegalMove) as refusal:
        game.apply_move(game.initial_state(2, {}), 0, move)
    assert refusal.value.reason == reason


def test_taken_cell_is_refused() -> None:
    with pytest.raises(IllegalMove, match="cell 4 is already taken"):
        game.apply_move(play(4), 1, {"cell": 4})


def test_moving_out_of_turn_is_refused() -> None:
    with pytest.raises(IllegalMove, match="not your turn"):
        game.apply_move(game.initial_state(2, {}), 1, {"cell": 0})


def test_no_move_after_the_game_is_over() -> None:
    with pytest.raises(IllegalMove):
        game.apply_move(play(0, 3, 1, 4, 2), 1, {"cell": 8})


def test_everyone_sees_the_whole_board() -> None:
    state = play(0, 4)
    assert game.view(state, 0) == game.view(state, None) == state
    assert game.view_move(state, {"cell": 4}, 1, None) == {"cell": 4}


def test_options_are_refused() -> None:
    assert game.validate_options({}) == {}
    with pytest.raises(InvalidOptions, match="takes no options, got: speed"):
        game.validate_options({"speed": 1})
