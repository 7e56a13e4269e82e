"""Reversi's rules (reversi/rules.py), without Django: the opening, flips in
every direction, refusals, the automatic pass, the end and the count, and
legal_moves agreeing with apply_move over random play."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from games.engine import IllegalMove, register
from reversi.rules import DIRECTIONS, Reversi, count, start_board

GAME = Reversi()
ROOT = Path(__file__).resolve().parent.parent


def position(rows: list[str], to_move: int = 0) -> dict:
    """A state from up to eight rows, the missing ones empty."""
    board = [row.ljust(8, ".") for row in rows] + ["........"] * (8 - len(rows))
    assert len(board) == 8 and all(len(row) == 8 for row in board)
    return {"board": board, "to_move": to_move, "passed": None, "last": None}


def play(state: dict, seat: int, row: int, col: int) -> dict:
    return GAME.apply_move(state, seat, GAME.parse_move({"row": row, "col": col}))


def test_the_registry_accepts_the_class() -> None:
    assert register(Reversi) is Reversi


def test_the_rules_import_no_django() -> None:
    code = "import sys, reversi.rules; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_standard_start_and_the_four_opening_moves() -> None:
    state = GAME.initial_state(2, {})
    assert state == {
        "board": ["........", "........", "........", "...WB...", "...BW...", "........", "........", "........"],
        "to_move": 0,
        "passed": None,
        "last": None,
    }
    assert state["board"] == start_board()
    assert GAME.turn(state) == [0] and GAME.result(state) is None
    assert list(GAME.legal_moves(state, 0)) == [
        {"row": 2, "col": 3},
        {"row": 3, "col": 2},
        {"row": 4, "col": 5},
        {"row": 5, "col": 4},
    ]
    assert list(GAME.legal_moves(state, 1)) == []


def test_black_opens_and_white_answers() -> None:
    state = play(GAME.initial_state(2, {}), 0, 2, 3)
    assert state["board"][2:5] == ["...B....", "...BB...", "...BW..."]
    assert (state["to_move"], state["passed"], state["last"]) == (1, None, [2, 3])
    assert GAME.turn(state) == [1]
    assert len(list(GAME.legal_moves(state, 1))) == 3
    state = play(state, 1, 2, 2)
    assert state["board"][2:5] == ["..WB....", "...WB...", "...BW..."]
    assert count(state["board"]) == (3, 3)


def test_one_move_flips_all_eight_directions() -> None:
    state = position(
        [
            "........",
            ".B.B.B..",
            "..WWW...",
            ".BW.WB..",
            "..WWW...",
            ".B.B.B..",
        ]
    )
    after = play(state, 0, 3, 3)
    assert after["board"][1:6] == [".B.B.B..", "..BBB...", ".BBBBB..", "..BBB...", ".B.B.B.."]
    assert count(after["board"]) == (17, 0)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_each_direction_flips_its_line_only(direction: tuple[int, int]) -> None:
    dr, dc = direction
    rows = [["."] * 8 for _ in range(8)]
    row, col = 3 + (dr < 0) * 1, 3 + (dc < 0) * 1  # room for three steps in the direction
    for step in (1, 2):
        rows[row + dr * step][col + dc * step] = "W"
    rows[row + dr * 3][col + dc * 3] = "B"
    # A white disc in the opposite direction, with no black disc behind it: it stays.
    rows[row - dr][col - dc] = "W"
    after = play(position(["".join(r) for r in rows]), 0, row, col)
    assert [after["board"][row + dr * step][col + dc * step] for step in (0, 1, 2, 3)] == ["B"] * 4
    assert after["board"][row - dr][col - dc] == "W"
    assert count(after["board"]) == (4, 1)


def test_a_line_not_closed_does_not_flip() -> None:
    # From (2, 2): down, white closed by black (flips); right, white then an
    # empty square (stays); down-right, white running to the edge (stays).
    state = position(["", "", "...WW...", "..WW....", "..W.W...", "..W..W..", "..B...W.", ".......W"])
    after = play(state, 0, 2, 2)
    assert [after["board"][r][2] for r in range(2, 7)] == ["B"] * 5
    assert after["board"][2] == "..BWW..."
    assert [after["board"][2 + step][2 + step] for step in range(1, 6)] == ["W"] * 5
    assert count(after["board"]) == (5, 7)


def test_a_move_that_flips_nothing_is_refused_and_changes_nothing() -> None:
    state = GAME.initial_state(2, {})
    before = copy.deepcopy(state)
    with pytest.raises(IllegalMove, match="flips nothing"):
        play(state, 0, 0, 0)
    with pytest.raises(IllegalMove, match="flips nothing"):
        play(state, 0, 2, 2)  # touches white diagonally, but nothing black behind it
    with pytest.raises(IllegalMove, match="already taken"):
        play(state, 0, 3, 3)
    assert state == before


def test_apply_move_never_mutates_its_state() -> None:
    state = GAME.initial_state(2, {})
    before = copy.deepcopy(state)
    after = play(state, 0, 2, 3)
    assert state == before and after != before


@pytest.mark.parametrize(
    "move",
    [
        {"row": True, "col": 0},
        {"row": 0, "col": False},
        {"row": "3", "col": 2},
        {"row": 3.0, "col": 2},
        {"row": None, "col": 2},
        {"row": 8, "col": 0},
        {"row": 0, "col": -1},
        {"row": 3},
        {"col": 2},
        {"row": 3, "col": 2, "pass": False},
        {"pass": True},
        {},
    ],
)
def test_the_move_model_refuses_bad_shapes(move: dict) -> None:
    with pytest.raises(IllegalMove, match="invalid reversi move"):
        GAME.parse_move(move)


@pytest.mark.parametrize("move", [[3, 2], "d3", None, 42])
def test_a_move_is_a_json_object(move: object) -> None:
    with pytest.raises(IllegalMove, match="JSON object"):
        GAME.parse_move(move)


def test_the_move_model_is_frozen() -> None:
    move = GAME.parse_move({"row": 3, "col": 2})
    assert (move.row, move.col) == (3, 2)
    with pytest.raises(ValueError):
        move.row = 4  # type: ignore[misc]


def test_a_side_without_a_move_passes_automatically() -> None:
    # Black takes the top row's white disc; white then has no move anywhere
    # (its one disc sits against the edge), so black plays again.
    state = position([".WB.....", "", "", "", "", "", "", "BW......"])
    after = play(state, 0, 0, 0)
    assert after["board"][0] == "BBB....."
    assert (after["to_move"], after["passed"]) == (0, 1)
    assert GAME.turn(after) == [0] and GAME.result(after) is None
    assert list(GAME.legal_moves(after, 1)) == []
    assert list(GAME.legal_moves(after, 0)) == [{"row": 7, "col": 2}]
    # Black's next move wipes white out: nobody can move, the game is over.
    end = play(after, 0, 7, 2)
    assert (end["to_move"], end["passed"]) == (None, None)
    assert GAME.turn(end) == []
    assert GAME.result(end).as_dict() == {"winner": 0, "reason": "most_discs"}


def test_the_pass_clears_once_the_other_side_moves_again() -> None:
    state = position([".WB....."], to_move=0)
    state["board"][4] = "...WB..."
    state["board"][5] = "...BW..."
    after = play(state, 0, 0, 0)
    assert (after["to_move"], after["passed"]) == (1, None)


def test_the_game_ends_when_neither_side_can_move_and_equal_counts_draw() -> None:
    state = position([".WB.....", "", "", "", "", "", "", "WWW....."])
    end = play(state, 0, 0, 0)
    assert count(end["board"]) == (3, 3)
    assert end["to_move"] is None and GAME.turn(end) == []
    assert GAME.result(end).as_dict() == {"winner": None, "reason": "equal_discs"}
    assert list(GAME.legal_moves(end, 0)) == list(GAME.legal_moves(end, 1)) == []
    assert GAME.random_move(end, 0, random.Random(0)) is None


def test_most_discs_wins_even_on_a_board_not_full() -> None:
    state = position([".WB.....", "", "", "", "", "", "", "WWWW...."])
    end = play(state, 0, 0, 0)
    assert count(end["board"]) == (3, 4)
    assert GAME.result(end).as_dict() == {"winner": 1, "reason": "most_discs"}


def accepted_squares(state: dict, seat: int) -> list[dict]:
    """Every square apply_move accepts for ``seat``, found by trying all 64."""
    accepted = []
    for row in range(8):
        for col in range(8):
            try:
                play(state, seat, row, col)
            except IllegalMove:
                continue
            accepted.append({"row": row, "col": col})
    return accepted


@pytest.mark.parametrize("seed", range(12))
def test_legal_moves_agree_with_apply_move_over_random_play(seed: int) -> None:
    rng = random.Random(seed)
    state = GAME.initial_state(2, {})
    plies = 0
    while GAME.turn(state):
        (seat,) = GAME.turn(state)
        legal = list(GAME.legal_moves(state, seat))
        assert legal == accepted_squares(state, seat), "legal_moves lists exactly what apply_move accepts"
        assert legal, "the seat to move always has a move (passes are automatic)"
        assert list(GAME.legal_moves(state, 1 - seat)) == []
        move = GAME.random_move(state, seat, rng)
        assert move in legal
        before = count(state["board"])
        state = play(state, seat, move["row"], move["col"])
        after = count(state["board"])
        assert sum(after) == sum(before) + 1
        gained = after[seat] - before[seat]
        assert gained >= 2 and after[1 - seat] == before[1 - seat] - (gained - 1)
        assert json.loads(json.dumps(state)) == state
        if state["passed"] is not None:
            assert state["to_move"] == seat and state["passed"] == 1 - seat
        plies += 1
    result = GAME.result(state)
    assert result is not None and plies <= 60
    black, white = count(state["board"])
    assert result.winner == (None if black == white else 0 if black > white else 1)
    assert not list(GAME.legal_moves(state, 0)) and not list(GAME.legal_moves(state, 1))


def test_describe_names_the_board_script_and_no_hidden_information() -> None:
    described = GAME.describe()
    assert described["slug"] == "reversi" and described["name"] == "Reversi"
    assert (described["min_players"], described["max_players"]) == (2, 2)
    assert described["board_script"] == "reversi/board.js"
    assert described["hidden_information"] is False and described["tick_ms"] is None
    assert described["move_schema"]["required"] == ["row", "col"]
