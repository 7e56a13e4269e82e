"""Every kind of ending, for every game, reached over WebSockets: the rules'
own endings, then resignation, agreed draws, timeouts and abandonment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from games.models import Player
from tests.conftest import moves, pair, seated

pytestmark = pytest.mark.django_db(transaction=True)

SHUFFLE = ["g1f3", "g8f6", "f3g1", "f6g8"]
RULE_ENDINGS = [
    ("connect4", {}, [(i % 2, {"column": c}) for i, c in enumerate([0, 0, 1, 1, 2, 2, 3])], 0, "four_in_a_row"),
    ("connect4", {}, [(i % 2, {"column": c}) for i, c in enumerate([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3])], 0,
     "four_in_a_row"),
    ("connect4", {}, [(i % 2, {"column": c}) for i, c in enumerate([3, 2, 2, 1, 1, 0, 1, 0, 0, 6, 0])], 0,
     "four_in_a_row"),
    ("chess", {"fen": "8/8/8/4k3/8/8/3QK3/8 w - - 99 80"}, [(0, {"uci": "d2d3", "claim_draw": True})], None,
     "fifty_moves"),
    ("chess", {"fen": "8/8/8/4k3/8/8/3QK3/8 w - - 149 80"}, [(0, {"uci": "d2d3"})], None, "seventyfive_moves"),
    ("chess", {}, [(i % 2, {"uci": u}) for i, u in enumerate(SHUFFLE * 4)], None, "fivefold_repetition"),
    ("tictactoe", {}, [(i % 2, {"cell": c}) for i, c in enumerate([4, 0, 8, 2, 1, 7, 6, 3, 5])], None, "board_full"),
]  # fmt: skip


@pytest.mark.parametrize("game, options, sequence, winner, reason", RULE_ENDINGS)
async def test_the_rules_own_endings(
    alice: Player, bob: Player, connect: Callable, game: str, options: dict, sequence: list, winner: Any, reason: str
) -> None:
    a, b = await pair(connect, await seated(alice, bob, game, options), alice, bob)
    last = await moves(a, b, sequence)
    assert last["match"]["result"] == {"winner": winner, "reason": reason}
    assert last["match"]["status"] == "finished" and last["match"]["turn"] == []


GAMES = ["tictactoe", "connect4", "chess", "battleship"]


@pytest.mark.parametrize("game", GAMES)
async def test_resignation(alice: Player, bob: Player, connect: Callable, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game), alice, bob)
    await a.send({"type": "resign"})
    for socket in (a, b):
        assert (await socket.next("event"))["match"]["result"] == {"winner": 1, "reason": "resign"}


@pytest.mark.parametrize("game", GAMES)
async def test_agreed_draw(alice: Player, bob: Player, connect: Callable, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game), alice, bob)
    await b.send({"type": "offer_draw"})
    await a.next("event")
    await b.next("event")
    await a.send({"type": "accept_draw"})
    for socket in (a, b):
        assert (await socket.next("event"))["match"]["result"] == {"winner": None, "reason": "agreement"}


# In battleship's setup both seats are to move: if both let their time run
# out, both flag at the same instant, and it is a draw.
TIMEOUT_RESULTS = {"battleship": {"winner": None, "reason": "timeout"}}


@pytest.mark.parametrize("game", GAMES)
async def test_timeout_with_nobody_sending_anything(
    alice: Player,
    bob: Player,
    connect: Callable,
    clock_loop: None,
    game: str,
) -> None:
    a, b = await pair(connect, await seated(alice, bob, game, {"move_timeout": 1}), alice, bob)
    flagged = await a.next("event", timeout=5)
    assert flagged["event"]["kind"] == "timeout"
    assert flagged["match"]["result"] == TIMEOUT_RESULTS.get(game, {"winner": 1, "reason": "timeout"})
    assert (await b.next("event", timeout=5))["seq"] == flagged["seq"]


@pytest.mark.parametrize("game", GAMES)
async def test_abandonment(alice: Player, bob: Player, connect: Callable, clock_loop: None, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game, {"abandon_timeout": 1}), alice, bob)
    await a.close()
    abandoned = await b.next("event", timeout=5)
    assert abandoned["event"]["kind"] == "abandon" and abandoned["event"]["move"] == {"seats": [0]}
    assert abandoned["match"]["result"] == {"winner": 1, "reason": "abandoned"}
