"""The browser client in a real browser: Playwright driving Debian's Chromium
against a real daphne on the test database. Separate browser contexts are
separate people. Screenshots land in test-artifacts/.

Needs /usr/bin/chromium (`.ci/run` installs it): without it these tests are
skipped with that reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from games import tournaments
from tests.live import ROOT, running_servers

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = pytest.mark.django_db(transaction=True)

if not shutil.which(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

# Flags for a headless Chromium as root on a machine with no network beyond loopback.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API keeps an event loop in this thread, so Django
    would refuse the tests' own (synchronous, single-threaded) ORM calls."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    with running_servers(tmp_path) as urls:
        yield urls[0]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class People:
    """Opens one browser context per person and collects console errors."""

    def __init__(self, browser: Browser, site: str) -> None:
        self.browser, self.site = browser, site
        self.errors: list[str] = []

    def open(self, path: str = "/", name: str | None = None, phone: bool = False) -> Page:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1100, "height": 900}
        page = self.browser.new_context(viewport=viewport).new_page()
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(self.site + path)
        if name:
            page.fill("#name", name)
            page.click("#name-form button")
            expect(page.locator("#hello")).to_have_text(f"Playing as {name}")
        return page


@pytest.fixture
def people(browser: Browser, site: str) -> Iterator[People]:
    crowd = People(browser, site)
    yield crowd
    assert crowd.errors == [], "the pages logged errors"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def cell(page: Page, number: int) -> Any:
    return page.locator(f"#board button[aria-label^='Cell {number}:']")


def test_two_players_and_a_spectator_play_tic_tac_toe_live(people: People) -> None:
    bob = people.open("/", "bob")  # bob watches the lobby before anyone creates a match
    expect(bob.locator("#no-matches")).to_be_visible()
    alice = people.open("/", "alice")
    alice.select_option("#game", "tictactoe")
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(alice.locator("#status")).to_have_text("Waiting for players: share the link.")
    # The lobby updates live: no reload on bob's side.
    bob.locator("#open-matches li", has_text="alice").get_by_role("button", name=re.compile("Join")).click()
    bob.wait_for_url(alice.url)
    watcher = people.open(alice.url.removeprefix(people.site))
    expect(watcher.locator("#status")).to_contain_text("Watching")

    for index, number in enumerate([1, 4, 2, 5, 3]):
        mover, other = (alice, bob) if index % 2 == 0 else (bob, alice)
        mark = "XO"[index % 2]
        expect(mover.locator("#status")).to_have_text("Your move.")
        cell(mover, number).click()
        for page in (mover, other, watcher):  # each sees the move arrive, without reloading
            expect(cell(page, number)).to_have_text(mark)
    expect(alice.locator("#status")).to_have_text("You won (three in a row)!")
    expect(bob.locator("#status")).to_have_text("alice won (three in a row).")
    expect(watcher.locator("#status")).to_have_text("alice won (three in a row).")
    expect(alice.locator("#players li.online")).to_have_count(2)
    screenshot(alice, "match-finished.png")

    alice.click("#replay-link")
    expect(alice.locator("#step")).to_contain_text("Step 7 of 7")
    alice.click("#first")
    expect(alice.locator("#step")).to_contain_text("Step 1 of 7")
    expect(cell(alice, 1)).to_have_text("")
    alice.click("#forward")
    alice.click("#forward")
    expect(cell(alice, 1)).to_have_text("X")


def test_a_dropped_socket_reconnects_and_catches_up(people: People) -> None:
    alice = people.open("/", "alice")
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    bob = people.open(alice.url.removeprefix(people.site), "bob")
    bob.click("#take-seat")
    expect(alice.locator("#status")).to_have_text("Your move.")
    cell(alice, 5).click()
    expect(cell(bob, 5)).to_have_text("X")

    alice.evaluate("window.__match.socket.close()")  # the network drops alice's socket
    cell(bob, 1).click()  # bob moves while alice is away
    expect(alice.locator("#connection")).to_have_attribute("data-state", "open")
    expect(cell(alice, 1)).to_have_text("O")  # caught up without a reload
    expect(alice.locator("#status")).to_have_text("Your move.")
    cell(alice, 9).click()
    expect(cell(bob, 9)).to_have_text("X")


def test_every_game_in_the_registry_plays_in_the_browser(people: People) -> None:
    alice = people.open("/", "alice", phone=True)
    bob = people.open("/", "bob", phone=True)

    def start(game: str) -> None:
        alice.goto(people.site + "/")
        alice.select_option("#game", game)
        alice.click("text=Create the match")
        alice.wait_for_url(re.compile(r"/matches/\d+/$"))
        bob.goto(alice.url)
        bob.click("#take-seat")
        expect(alice.locator("#players li")).to_have_count(2)

    start("connect4")
    for index, column in enumerate([1, 2, 1, 2, 1, 2, 1]):
        page = alice if index % 2 == 0 else bob
        page.get_by_role("button", name=f"Drop a disc in column {column}").click()
        expect((bob if page is alice else alice).locator(".slot.R, .slot.Y")).to_have_count(index + 1)
    expect(alice.locator("#status")).to_have_text("You won (four in a row)!")

    start("chess")
    for index, (source, target) in enumerate([("f2", "f3"), ("e7", "e5"), ("g2", "g4"), ("d8", "h4")]):
        page = alice if index % 2 == 0 else bob
        page.locator(f"[data-square='{source}']").click()
        page.locator(f"[data-square='{target}']").click()
        expect((bob if page is alice else alice).locator(".moves")).to_contain_text(["f3", "e5", "g4", "Qh4#"][index])
    expect(bob.locator("#status")).to_have_text("You won (checkmate)!")
    screenshot(bob, "chess-phone.png")

    start("battleship")
    alice.click("text=Confirm the fleet")
    bob.click("text=Shuffle the fleet")
    bob.click("text=Confirm the fleet")
    expect(alice.locator("#status")).to_have_text("Your move.")
    bob_ships = bob.locator("section.waters", has_text="Your waters").locator(".water.ship")
    targets = [b.get_attribute("data-cell") for b in bob_ships.all()]
    assert len(targets) == 17
    misses = (f"{r},{c}" for r in range(10) for c in range(10) if f"{r},{c}" not in targets)
    enemy = alice.locator("section.waters", has_text="Enemy waters")
    assert enemy.locator(".water.ship").count() == 0  # the fleet is not on alice's page
    for index, target in enumerate(targets):
        enemy.locator(f"[data-cell='{target}']").click()
        expect(enemy.locator(".water.hit")).to_have_count(index + 1)
        if index < len(targets) - 1:
            bob.locator("section.waters", has_text="Enemy waters").locator(f"[data-cell='{next(misses)}']").click()
            expect(alice.locator("#status")).to_have_text("Your move.")
    expect(alice.locator("#status")).to_have_text("You won (fleet sunk)!")


def test_the_bracket_updates_live(people: People, make_player: Any) -> None:
    cup = tournaments.create_tournament("Spring open", "tictactoe", {}, 500, "eur", 4, None)
    players = [make_player(name) for name in ("ana", "ben", "cy", "dee")]
    for player in players:
        entry = tournaments.enter(cup.pk, player)
        tournaments.Entry.objects.filter(pk=entry.pk).update(status="confirmed")
    staff = make_player("staff")
    staff.user.is_staff = True
    staff.user.save()
    carol = people.open(f"/tournaments/{cup.pk}/", "carol")
    expect(carol.locator("#enter")).to_be_visible()
    carol.click("#enter")
    expect(carol.locator("#payment")).to_contain_text("reference entry_")
    expect(carol.locator("#entries li", has_text="carol")).to_have_text("carol: pending payment")

    # Everything below goes through the server, as staff and players would;
    # the page fills in by itself.
    def post(path: str, token: str, body: dict | None = None) -> dict:
        response = httpx.post(people.site + path, json=body or {}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 201), response.text
        return response.json()

    started = post(f"/api/tournaments/{cup.pk}/start", staff.token)
    expect(carol.locator(".round")).to_have_count(2)
    semi = started["bracket"][0]["matches"][0]
    by_id = {player.pk: player for player in players}
    x, o = (by_id[side["id"]] for side in semi["players"])
    for index, number in enumerate([0, 3, 1, 4, 2]):
        post(f"/api/matches/{semi['match']}/moves", (x, o)[index % 2].token, {"move": {"cell": number}})
    expect(carol.locator(".side.winner")).to_have_text(x.name)
    expect(carol.locator(".pairing.active")).to_have_count(1)
    screenshot(carol, "bracket.png")
