"""Chess endings as FIDE's rules have them, through python-chess."""

import pytest

from games.rules import IllegalMove, InvalidOptions, Result
from games.rules.chess import Chess

game = Chess()


def play(*moves: str) -> dict:
    state = game.initial_state(2, {})
    for index, uci in enumerate(moves):
        state = game.apply_move(state, index % 2, {"uci": uci})
    return state


def test_state_has_fen_and_san_moves() -> None:
    state = play("e2e4", "e7e5", "g1f3")
    assert state["san"] == ["e4", "e5", "Nf3"]
    assert state["fen"] == "rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 1 2"
    assert game.turn(state) == [1]


def test_fools_mate_is_checkmate_for_black() -> None:
    state = play("f2f3", "e7e5", "g2g4", "d8h4")
    assert state["check"] is True
    assert game.result(state) == Result(winner=1, reason="checkmate")
    assert game.turn(state) == []


def test_castling_en_passant_and_promotion() -> None:
    castled = play("e2e4", "e7e5", "g1f3", "b8c6", "f1c4", "g8f6", "e1g1")
    assert castled["san"][-1] == "O-O"
    passant = play("e2e4", "a7a6", "e4e5", "d7d5", "e5d6")
    assert passant["san"][-1] == "exd6"
    promoted = play("a2a4", "b7b5", "a4b5", "a7a6", "b5a6", "c8b7", "a6b7", "g8f6", "b7a8q")
    assert promoted["san"][-1] == "bxa8=Q"
    assert promoted["fen"].startswith("Q")


def test_stalemate_is_a_draw() -> None:
    # Sam Loyd's ten-move stalemate.
    state = play(
        "e2e3", "a7a5", "d1h5", "a8a6", "h5a5", "h7h5", "h2h4", "a6h6", "a5c7", "f7f6",
        "c7d7", "e8f7", "d7b7", "d8d3", "b7b8", "d3h7", "b8c8", "f7g6", "c8e6",
    )  # fmt: skip
    assert game.result(state) == Result(winner=None, reason="stalemate")


def start_at(fen: str) -> dict:
    return game.initial_state(2, game.validate_options({"fen": fen}))


def test_insufficient_material_ends_the_game() -> None:
    # Black's knight takes white's last pawn: king and knight against a bare king cannot mate.
    state = start_at("8/8/8/4k3/8/1n6/3PK3/8 b - - 0 1")
    assert game.result(state) is None
    state = game.apply_move(state, 1, {"uci": "b3d2"})
    assert game.result(state) == Result(winner=None, reason="insufficient_material")


def test_seventyfive_move_rule_ends_automatically_and_fifty_is_a_claim() -> None:
    fifty = start_at("8/8/8/4k3/8/8/3QK3/8 w - - 99 80")
    moved = game.apply_move(fifty, 0, {"uci": "d2d3", "claim_draw": True})
    assert game.result(moved) == Result(winner=None, reason="fifty_moves")
    unclaimed = game.apply_move(fifty, 0, {"uci": "d2d3"})
    assert game.result(unclaimed) is None
    seventyfive = start_at("8/8/8/4k3/8/8/3QK3/8 w - - 149 80")
    assert game.result(game.apply_move(seventyfive, 0, {"uci": "d2d3"})) == Result(
        winner=None, reason="seventyfive_moves"
    )


def test_a_custom_start_position_decides_who_moves_first() -> None:
    state = start_at("8/8/8/4k3/8/8/3QK3/8 b - - 0 1")
    assert game.turn(state) == [1]
    assert game.apply_move(state, 1, {"uci": "e5e4"})["san"] == ["Ke4"]


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"fen": "nonsense"}, "not a FEN"),
        ({"fen": "8/8/8/8/8/8/8/8 w - - 0 1"}, "not a legal"),
        ({"fen": 5}, "must be a string"),
        ({"fen": ["8/8"]}, "must be a string"),
        ({"fen": "7k/5Q2/6K1/8/8/8/8/8 b - - 0 1"}, "already over"),  # stalemate
        ({"x": 1}, "fen"),
    ],
)
def test_bad_options_are_refused(options: dict, problem: str) -> None:
    with pytest.raises(InvalidOptions, match=problem):
        game.validate_options(options)


def test_threefold_repetition_is_a_claim_not_automatic() -> None:
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"] * 2
    state = play(*shuffle)
    assert game.result(state) is None  # threefold reached, nobody claimed
    claimed = game.apply_move(state, 0, {"claim_draw": True})
    assert game.result(claimed) == Result(winner=None, reason="threefold_repetition")


def test_claim_with_the_move_that_repeats() -> None:
    state = play(*(["g1f3", "g8f6", "f3g1", "f6g8"] * 2)[:-1])
    assert game.result(state) is None
    with pytest.raises(IllegalMove, match="no draw can be claimed"):
        game.apply_move(state, 1, {"claim_draw": True})
    claimed = game.apply_move(state, 1, {"uci": "f6g8", "claim_draw": True})
    assert game.result(claimed) == Result(winner=None, reason="threefold_repetition")


def test_a_wrong_claim_with_a_move_plays_the_move_and_continues() -> None:
    """FIDE 9.5: an incorrect claim made with a move: the move stands."""
    state = game.apply_move(game.initial_state(2, {}), 0, {"uci": "e2e4", "claim_draw": True})
    assert state["san"] == ["e4"] and state["claim"] is None
    assert game.result(state) is None and game.turn(state) == [1]


def test_fivefold_repetition_ends_automatically() -> None:
    state = play(*(["g1f3", "g8f6", "f3g1", "f6g8"] * 4))
    assert game.result(state) == Result(winner=None, reason="fivefold_repetition")


@pytest.mark.parametrize(
    "move, reason",
    [
        ({"uci": "e2e5"}, "e2e5 is not legal in this position"),
        ({"uci": "zz"}, "'zz' is not a move in UCI notation"),
        ({"uci": 42}, "uci must be a string"),
        ({"uci": "e2e4", "claim_draw": "yes"}, "claim_draw must be true or false"),
        ({"from": "e2"}, 'a chess move is {"uci": "e2e4"}'),
        ({}, 'a chess move is {"uci": "e2e4"}'),
    ],
)
def test_illegal_and_malformed_moves_are_refused(move: dict, reason: str) -> None:
    with pytest.raises(IllegalMove) as refusal:
        game.apply_move(game.initial_state(2, {}), 0, move)
    assert refusal.value.reason.startswith(reason)


def test_black_may_not_move_first() -> None:
    with pytest.raises(IllegalMove, match="not your turn"):
        game.apply_move(game.initial_state(2, {}), 1, {"uci": "e7e5"})


def test_flag_loses_unless_the_opponent_cannot_mate() -> None:
    opening = play("e2e4")
    assert game.timeout_result(opening, [1], 2) == Result(winner=0, reason="timeout")
    # White has a queen, black only a knight: black cannot mate.
    queen_vs_knight = start_at("8/8/8/4k3/8/8/3QK3/6n1 w - - 0 1")
    assert game.timeout_result(queen_vs_knight, [0], 2) == Result(
        winner=None, reason="timeout_vs_insufficient_material"
    )
    assert game.timeout_result(queen_vs_knight, [1], 2) == Result(winner=0, reason="timeout")
