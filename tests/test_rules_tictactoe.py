"""The tic-tac-toe rules as plain functions: no database, no sockets."""

import random

import pytest

from classic_games.tictactoe import TicTacToe
from games.engine import IllegalMove, InvalidOptions, Result, UnknownGame, get_game
from tests.rules_helpers import apply, check_legal_moves, refusal

game = TicTacToe()


def play(*cells: int) -> dict:
    state = game.initial_state(2, {})
    for index, cell in enumerate(cells):
        state = apply(game, state, index % 2, {"cell": cell})
    return state


def test_registry_maps_slug_to_game() -> None:
    import classic_games.game_rules  # noqa: F401  (registers, as Django's startup does)

    assert isinstance(get_game("tictactoe"), TicTacToe)
    with pytest.raises(UnknownGame):
        get_game("nope")


def test_x_moves_first_and_turns_alternate() -> None:
    state = game.initial_state(2, {})
    assert game.turn(state) == [0]
    state = apply(game, state, 0, {"cell": 4})
    assert state["board"][4] == "X"
    assert game.turn(state) == [1]
    state = apply(game, state, 1, {"cell": 0})
    assert state["board"][0] == "O"
    assert game.turn(state) == [0]


def test_apply_move_does_not_mutate_the_given_state() -> None:
    state = game.initial_state(2, {})
    apply(game, state, 0, {"cell": 0})
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
        ({"cell": 9}, "cell: Input should be less than or equal to 8"),
        ({"cell": -1}, "cell: Input should be greater than or equal to 0"),
        ({"cell": "4"}, "cell: Input should be a valid integer"),
        ({"cell": True}, "cell: Input should be a valid integer"),
        ({"cell": 4.0}, "cell: Input should be a valid integer"),
        ({}, "cell: Field required"),
        ({"cell": 1, "extra": 2}, "extra: Extra inputs are not permitted"),
        ([4], "a tictactoe move is a JSON object"),
    ],
)
def test_malformed_moves_are_refused_with_a_reason(move: dict, reason: str) -> None:
    assert reason in refusal(game, game.initial_state(2, {}), 0, move)


def test_taken_cell_is_refused() -> None:
    assert refusal(game, play(4), 1, {"cell": 4}) == "cell 4 is already taken"


def test_moving_out_of_turn_is_refused() -> None:
    assert "not your turn" in refusal(game, game.initial_state(2, {}), 1, {"cell": 0})


def test_no_move_after_the_game_is_over() -> None:
    with pytest.raises(IllegalMove):
        apply(game, play(0, 3, 1, 4, 2), 1, {"cell": 8})


def test_everyone_sees_the_whole_board() -> None:
    state = play(0, 4)
    assert game.view(state, 0) == game.view(state, None) == state
    assert game.view_move(state, {"cell": 4}, 1, None) == {"cell": 4}
    assert not game.hidden_information


def test_options_are_refused() -> None:
    assert game.validate_options({}) == {}
    with pytest.raises(InvalidOptions, match="speed: Extra inputs are not permitted"):
        game.validate_options({"speed": 1})


# --- legal moves --------------------------------------------------------------

CANDIDATES = [{"cell": cell} for cell in range(-1, 10)]


def test_the_empty_board_has_nine_moves_in_order() -> None:
    state = game.initial_state(2, {})
    assert list(game.legal_moves(state, 0)) == [{"cell": cell} for cell in range(9)]
    assert list(game.legal_moves(state, 1)) == []


def test_no_moves_once_the_game_is_over() -> None:
    state = play(0, 3, 1, 4, 2)
    assert list(game.legal_moves(state, 0)) == list(game.legal_moves(state, 1)) == []


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
