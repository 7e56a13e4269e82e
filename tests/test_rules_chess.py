"""Chess endings as FIDE's rules have them, through python-chess."""

import random

import chess
import pytest

from classic_games.chess import Chess
from games.engine import IllegalMove, InvalidOptions, Result
from tests.rules_helpers import apply, check_legal_moves, refusal

game = Chess()


def play(*moves: str) -> dict:
    state = game.initial_state(2, {})
    for index, uci in enumerate(moves):
        state = apply(game, state, index % 2, {"uci": uci})
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
    state = apply(game, state, 1, {"uci": "b3d2"})
    assert game.result(state) == Result(winner=None, reason="insufficient_material")


def test_seventyfive_move_rule_ends_automatically_and_fifty_is_a_claim() -> None:
    fifty = start_at("8/8/8/4k3/8/8/3QK3/8 w - - 99 80")
    moved = apply(game, fifty, 0, {"uci": "d2d3", "claim_draw": True})
    assert game.result(moved) == Result(winner=None, reason="fifty_moves")
    unclaimed = apply(game, fifty, 0, {"uci": "d2d3"})
    assert game.result(unclaimed) is None
    seventyfive = start_at("8/8/8/4k3/8/8/3QK3/8 w - - 149 80")
    assert game.result(apply(game, seventyfive, 0, {"uci": "d2d3"})) == Result(winner=None, reason="seventyfive_moves")


def test_a_custom_start_position_decides_who_moves_first() -> None:
    state = start_at("8/8/8/4k3/8/8/3QK3/8 b - - 0 1")
    assert game.turn(state) == [1]
    assert apply(game, state, 1, {"uci": "e5e4"})["san"] == ["Ke4"]


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"fen": "nonsense"}, "not a FEN"),
        ({"fen": "8/8/8/8/8/8/8/8 w - - 0 1"}, "not a legal"),
        ({"fen": 5}, "fen: Input should be a valid string"),
        ({"fen": ["8/8"]}, "fen: Input should be a valid string"),
        ({"fen": None}, "fen must be a string"),
        ({"fen": "7k/5Q2/6K1/8/8/8/8/8 b - - 0 1"}, "already over"),  # stalemate
        ({"x": 1}, "x: Extra inputs are not permitted"),
    ],
)
def test_bad_options_are_refused(options: dict, problem: str) -> None:
    with pytest.raises(InvalidOptions, match=problem):
        game.validate_options(options)


def test_threefold_repetition_is_a_claim_not_automatic() -> None:
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"] * 2
    state = play(*shuffle)
    assert game.result(state) is None  # threefold reached, nobody claimed
    claimed = apply(game, state, 0, {"claim_draw": True})
    assert game.result(claimed) == Result(winner=None, reason="threefold_repetition")


def test_claim_with_the_move_that_repeats() -> None:
    state = play(*(["g1f3", "g8f6", "f3g1", "f6g8"] * 2)[:-1])
    assert game.result(state) is None
    with pytest.raises(IllegalMove, match="no draw can be claimed"):
        apply(game, state, 1, {"claim_draw": True})
    claimed = apply(game, state, 1, {"uci": "f6g8", "claim_draw": True})
    assert game.result(claimed) == Result(winner=None, reason="threefold_repetition")


def test_a_wrong_claim_with_a_move_plays_the_move_and_continues() -> None:
    """FIDE 9.5: an incorrect claim made with a move: the move stands."""
    state = apply(game, game.initial_state(2, {}), 0, {"uci": "e2e4", "claim_draw": True})
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
        ({"uci": 42}, "uci: Input should be a valid string"),
        ({"uci": None}, "uci must be a string"),
        ({"uci": None, "claim_draw": True}, "uci must be a string"),
        ({"uci": "e2e4", "claim_draw": "yes"}, "claim_draw: Input should be a valid boolean"),
        ({"from": "e2"}, "from: Extra inputs are not permitted"),
        ({}, 'a chess move is {"uci": "e2e4"}'),
        ({"claim_draw": False}, 'a chess move is {"uci": "e2e4"}'),
    ],
)
def test_illegal_and_malformed_moves_are_refused(move: dict, reason: str) -> None:
    assert reason in refusal(game, game.initial_state(2, {}), 0, move)


def test_black_may_not_move_first() -> None:
    with pytest.raises(IllegalMove, match="not your turn"):
        apply(game, game.initial_state(2, {}), 1, {"uci": "e7e5"})


def test_flag_loses_unless_the_opponent_cannot_mate() -> None:
    opening = play("e2e4")
    assert game.timeout_result(opening, [1], 2) == Result(winner=0, reason="timeout")
    # White has a queen, black only a knight: black cannot mate.
    queen_vs_knight = start_at("8/8/8/4k3/8/8/3QK3/6n1 w - - 0 1")
    assert game.timeout_result(queen_vs_knight, [0], 2) == Result(
        winner=None, reason="timeout_vs_insufficient_material"
    )
    assert game.timeout_result(queen_vs_knight, [1], 2) == Result(winner=0, reason="timeout")


# --- legal moves --------------------------------------------------------------

SQUARES = [f"{file}{rank}" for file in "abcdefgh" for rank in "12345678"]
# Every from-to pair, and every promotion onto the last ranks: a superset of
# the moves of any position.
CANDIDATES = [{"uci": a + b} for a in SQUARES for b in SQUARES if a != b] + [
    {"uci": f"{a}{b}{piece}"} for a in SQUARES for b in SQUARES if b[1] in "18" and a[1] in "27" for piece in "qrbn"
]


def test_the_start_has_twenty_moves_sorted() -> None:
    moves = list(game.legal_moves(game.initial_state(2, {}), 0))
    assert len(moves) == 20
    assert moves == sorted(moves, key=lambda move: move["uci"])
    assert {"uci": "e2e4"} in moves and {"uci": "g1f3"} in moves
    assert list(game.legal_moves(game.initial_state(2, {}), 1)) == []


def test_promotions_are_listed_once_per_piece() -> None:
    state = start_at("8/P7/8/8/8/8/8/k6K w - - 0 1")
    moves = [move["uci"] for move in game.legal_moves(state, 0)]
    assert {"a7a8q", "a7a8r", "a7a8b", "a7a8n"} <= set(moves) and "a7a8" not in moves


def test_a_claim_is_listed_only_while_it_may_be_made() -> None:
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"]
    state = play(*shuffle * 2)  # threefold: claimable
    assert list(game.legal_moves(state, 0))[-1] == {"claim_draw": True}
    assert {"claim_draw": True} not in list(game.legal_moves(play(*shuffle), 0))
    fifty = start_at("8/8/8/4k3/8/8/3QK3/8 w - - 100 80")
    assert {"claim_draw": True} in list(game.legal_moves(fifty, 0))
    assert list(game.legal_moves(play("f2f3", "e7e5", "g2g4", "d8h4"), 0)) == []  # checkmate


@pytest.mark.parametrize("seed", range(3))
def test_legal_moves_are_exactly_the_moves_the_rules_accept(seed: int) -> None:
    """Every few plies of a random game, each listed move is accepted and
    every other from-to move is refused (against python-chess's own list)."""
    rng = random.Random(seed)
    state = game.initial_state(2, {})
    for ply in range(60):
        if not game.turn(state):
            break
        seat = game.turn(state)[0]
        if ply % 15 == 0:
            check_legal_moves(game, state, CANDIDATES)
            board = chess.Board(state["fen"])
            listed = [move["uci"] for move in game.legal_moves(state, seat) if "uci" in move]
            assert listed == sorted(move.uci() for move in board.legal_moves)
        state = apply(game, state, seat, game.random_move(state, seat, rng))


def test_random_play_from_a_custom_position_stays_legal() -> None:
    rng = random.Random(7)
    state = start_at("8/8/8/4k3/8/1n6/3PK3/8 b - - 0 1")
    while game.turn(state):
        seat = game.turn(state)[0]
        state = apply(game, state, seat, game.random_move(state, seat, rng))
    assert game.result(state) is not None
