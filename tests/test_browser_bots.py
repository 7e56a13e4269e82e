"""Play the computer, in a real browser: one context opens /play/computer/,
picks tic-tac-toe and the random level, and plays until it wins, reading the
board from the page and never playing a losing move.

Needs /usr/bin/chromium, like tests/test_browser.py (whose fixtures it uses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.live import running_processes
from tests.test_browser import (  # noqa: F401 (fixtures)
    Page,
    People,
    browser,
    cell,
    expect,
    orm_beside_playwright,
    people,
    screenshot,
)

pytestmark = pytest.mark.django_db(transaction=True)
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
MOST_GAMES = 8  # a perfect player wins about nine games in ten against random moves


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """One daphne with the bots inside it (the embedded layout, also when the run has Redis)."""
    env = {"REDIS_URL": "", "GAMES_CLOCK_IN_PROCESS": "1", "BOTS_IN_PROCESS": "1"}
    with running_processes(tmp_path, servers=1, env=env) as ([url], _):
        yield url


def winner(board: tuple[str, ...]) -> str | None:
    for a, b, c in LINES:
        if board[a] and board[a] == board[b] == board[c]:
            return board[a]
    return None


@cache
def value(board: tuple[str, ...], me: str) -> tuple[int, float]:
    """For the side to move (``me`` is X): the game-theoretic value for X
    (1, 0, -1) and X's chance of winning when O plays at random."""
    won = winner(board)
    if won or all(board):
        outcome = 0 if not won else 1 if won == me else -1
        return outcome, float(outcome == 1)
    to_move = "X" if board.count("X") == board.count("O") else "O"
    children = [value((*board[:i], to_move, *board[i + 1 :]), me) for i, mark in enumerate(board) if not mark]
    if to_move == me:
        best = max(outcome for outcome, _ in children)
        return best, max(chance for outcome, chance in children if outcome == best)
    return min(outcome for outcome, _ in children), sum(chance for _, chance in children) / len(children)


def best_cell(board: tuple[str, ...]) -> int:
    """A move that never loses and, among those, wins most often against random moves."""
    options = {i: value((*board[:i], "X", *board[i + 1 :]), "X") for i, mark in enumerate(board) if not mark}
    best = max(outcome for outcome, _ in options.values())
    return max((chance, i) for i, (outcome, chance) in options.items() if outcome == best)[1]


def read_board(page: Page) -> tuple[str, ...]:
    return tuple(cell(page, number).inner_text().strip() for number in range(1, 10))


def play_one_game(page: Page) -> str:
    """Play X until the game ends; the status line at the end."""
    status = page.locator("#status")
    while True:
        expect(status).to_have_text(re.compile(r"^(Your move\.|You won .*|.* won .*|Draw .*)$"), timeout=20_000)
        text = status.inner_text()
        if text != "Your move.":
            return text
        board = read_board(page)
        move = best_cell(board)
        cell(page, move + 1).click()
        expect(cell(page, move + 1)).to_have_text("X")


def test_one_context_beats_the_random_bot_at_tic_tac_toe(people: People) -> None:  # noqa: F811 (the fixture)
    page = people.open("/play/computer/", "alice")
    expect(page.locator("#level option")).to_have_count(3)
    outcomes = []
    for _ in range(MOST_GAMES):
        page.goto(people.site + "/play/computer/")
        page.select_option("#game", "tictactoe")
        page.select_option("#level", "1")
        expect(page.locator("#level-description")).to_contain_text("random")
        if not outcomes:
            screenshot(page, "play-computer.png")
        page.get_by_role("button", name="Play the computer").click()
        page.wait_for_url(re.compile(r"/matches/\d+/$"))
        expect(page.locator("#players li")).to_have_count(2)
        expect(page.locator("#players")).to_contain_text("Computer (random)")
        outcome = play_one_game(page)
        outcomes.append(outcome)
        assert not re.match(r"^Computer .* won", outcome), f"the perfect player lost: {outcomes}"
        if outcome.startswith("You won"):
            screenshot(page, "computer-beaten.png")
            break
    assert outcomes[-1] == "You won (three in a row)!", outcomes
