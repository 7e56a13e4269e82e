"""The browser client in a real browser: Playwright driving Debian's Chromium
against a real daphne on the test database. Separate browser contexts are
separate people. Screenshots land in test-artifacts/.

Needs /usr/bin/chromium (`.ci/run` installs it): without it these tests are
skipped with that reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import ROOT, running_processes, running_servers
from tournaments import services as tournaments

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
    """Opens one browser context per person (or several tabs of one browser)
    and collects console errors."""

    def __init__(self, browser: Browser, site: str) -> None:
        self.browser, self.site = browser, site
        self.errors: list[str] = []

    def open(self, path: str = "/", name: str | None = None, phone: bool = False) -> Page:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1100, "height": 900}
        return self.visit(self.browser.new_context(viewport=viewport).new_page(), path, name)

    def tab(self, beside: Page, path: str = "/", name: str | None = None) -> Page:
        """Another tab of ``beside``'s browser: the same cookies, its own sessionStorage."""
        return self.visit(beside.context.new_page(), path, name)

    def visit(self, page: Page, path: str, name: str | None) -> Page:
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(self.site + path)
        if name:
            enter_name(page, name)
        return page


def enter_name(page: Page, name: str) -> None:
    page.fill("#name", name)
    page.click("#name-form button")
    expect(page.locator("#hello")).to_have_text(f"Playing as {name}")


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


def square(page: Page, name: str) -> Any:
    return page.locator(f"[data-square='{name}']")


def new_match(people: People, game: str) -> tuple[Page, Page]:
    """alice creates a match of ``game`` and bob, in a browser of his own, takes the other seat."""
    alice = people.open("/", "alice")
    alice.select_option("#game", game)
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    bob = people.open(alice.url.removeprefix(people.site), "bob")
    bob.click("#take-seat")
    expect(alice.locator("#players li")).to_have_count(2)
    return alice, bob


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
    # The log as players say it: names, marks and cells from 1, not JSON and seat numbers.
    expect(alice.locator("#log li")).to_have_text([
        "alice joins", "bob joins", "alice: X on cell 1", "bob: O on cell 4", "alice: X on cell 2",
        "bob: O on cell 5", "alice: X on cell 3",
    ])  # fmt: skip
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
    alice.click("#replay-link")
    expect(alice.locator("#log li").nth(2)).to_have_text("alice: red disc in column 1")
    expect(alice.locator("#log li").nth(3)).to_have_text("bob: yellow disc in column 2")

    start("chess")
    for index, (source, target) in enumerate([("f2", "f3"), ("e7", "e5"), ("g2", "g4"), ("d8", "h4")]):
        page = alice if index % 2 == 0 else bob
        page.locator(f"[data-square='{source}']").click()
        page.locator(f"[data-square='{target}']").click()
        expect((bob if page is alice else alice).locator(".moves")).to_contain_text(["f3", "e5", "g4", "Qh4#"][index])
    expect(bob.locator("#status")).to_have_text("You won (checkmate)!")
    screenshot(bob, "chess-phone.png")
    bob.click("#replay-link")
    expect(bob.locator("#log li").filter(has_text=":")).to_have_text(
        ["alice: 1. f3", "bob: 1… e5", "alice: 2. g4", "bob: 2… Qh4#"]
    )
    screenshot(bob, "replay-chess-phone.png")

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
    alice.click("#replay-link")
    expect(alice.locator("#log li", has_text="places the fleet")).to_have_count(2)
    row, col = (int(n) + 1 for n in targets[-1].split(","))
    expect(alice.locator("#log li").last).to_have_text(f"alice: shoots at row {row}, column {col}: hit")


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


def test_chess_tells_a_first_timer_what_is_going_on(people: People) -> None:
    alice, bob = new_match(people, "chess")
    expect(alice.locator("#side")).to_have_text("You play white.")
    expect(bob.locator("#side")).to_have_text("You play black.")
    expect(bob.locator("#players li")).to_have_text(["alice · white", "bob · black (you)"])
    # Coordinates, from each player's own side of the board.
    expect(alice.locator(".chess-frame .files")).to_have_text("abcdefgh")
    expect(alice.locator(".chess-frame .ranks")).to_have_text("87654321")
    expect(bob.locator(".chess-frame .files")).to_have_text("hgfedcba")
    expect(bob.locator(".chess-frame .ranks")).to_have_text("12345678")

    # An illegal move is refused: the reason shows next to the board, and the board is free again.
    square(alice, "e2").click()
    square(alice, "e5").click()
    expect(alice.locator("#error")).to_have_text("e2e5 is not legal in this position")
    expect(alice.locator("#pending")).to_be_hidden()
    expect(square(alice, "e2")).to_be_enabled()
    screenshot(alice, "match-refused-move.png")
    error, board = alice.locator("#error").bounding_box(), alice.locator("#board").bounding_box()
    assert error and board and 0 <= board["y"] - (error["y"] + error["height"]) < 40, (
        "the error sits right above the board"
    )
    # So is a draw claim when there is nothing to claim.
    alice.click("text=Claim a draw")
    expect(alice.locator("#error")).to_contain_text("no draw can be claimed")
    expect(alice.locator("#pending")).to_be_hidden()
    expect(alice.locator(".claim")).to_be_enabled()
    # Then a legal move goes through, the error goes, and both boards mark the last move.
    square(alice, "e2").click()
    square(alice, "e4").click()
    expect(alice.locator("#error")).to_be_hidden()
    for page in (alice, bob):
        expect(page.locator(".square.last")).to_have_count(2)
        expect(square(page, "e2")).to_have_class(re.compile(r"\blast\b"))
        expect(square(page, "e4")).to_have_class(re.compile(r"\blast\b"))

    # A standing draw offer, explained to both: it lasts until alice accepts or moves.
    bob.click("#offer-draw")
    expect(alice.locator("#notice")).to_have_text(
        'bob offers a draw: press "Accept the draw" to end the game drawn, or make your move to decline it.'
    )
    expect(bob.locator("#notice")).to_have_text(
        "You offered a draw. It stands until alice accepts it or makes a move (a move declines it)."
    )
    square(bob, "e7").click()
    square(bob, "e5").click()
    expect(alice.locator("#accept-draw")).to_be_visible()
    expect(alice.locator("#notice")).to_contain_text("bob offers a draw")
    screenshot(alice, "match-draw-offer.png")
    square(alice, "g1").click()
    square(alice, "f3").click()
    for page in (alice, bob):
        expect(page.locator("#notice")).to_be_hidden()
    expect(alice.locator("#accept-draw")).to_be_hidden()

    # After the game, the opponent is told a rematch was asked for.
    alice.click("#resign")
    expect(bob.locator("#status")).to_have_text("You won (resign)!")
    bob.click("#rematch")
    expect(alice.locator("#notice")).to_have_text('bob asked for a rematch: press "Rematch" to play again.')
    expect(bob.locator("#notice")).to_have_text("You asked for a rematch; waiting for alice.")
    finished = alice.url
    alice.click("#rematch")
    for page in (alice, bob):
        page.wait_for_url(lambda url: url != finished)
    expect(bob.locator("#side")).to_have_text("You play white.")  # seats rotate


def test_draw_offers_only_in_games_that_have_them(people: People) -> None:
    alice = people.open("/", "alice")

    def without_draw_offers(route: Any) -> None:  # as a game without draw offers would answer
        response = route.fetch()
        games = response.json()
        for game in games["games"]:
            # every turn-based game has them today (real-time ones have none)
            assert game["allows_draw_offers"] is (game["tick_ms"] is None)
            game["allows_draw_offers"] = game["slug"] != "tictactoe"
        route.fulfill(response=response, json=games)

    alice.route("**/api/games", without_draw_offers)
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    bob = people.open(alice.url.removeprefix(people.site), "bob")
    bob.click("#take-seat")
    expect(alice.locator("#resign")).to_be_visible()
    expect(alice.locator("#offer-draw")).to_be_hidden()
    expect(bob.locator("#offer-draw")).to_be_visible()  # bob's page was told tic-tac-toe has them


def test_each_tab_acts_only_as_the_player_it_shows(people: People) -> None:
    alice = people.open("/", "alice")
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    path = alice.url.removeprefix(people.site)
    bob = people.tab(alice, path, "bob")  # the same browser, so bob is its latest login
    bob.click("#take-seat")
    cell(alice, 5).click()
    expect(bob.locator("#status")).to_have_text("Your move.")

    # A third tab where nobody entered a name watches as nobody: neither as bob nor as alice.
    nameless = people.tab(alice, path)
    expect(nameless.locator("#connection")).to_have_attribute("data-state", "open")
    expect(nameless.locator("#status")).to_contain_text("Watching")
    expect(nameless.locator("#chat-form")).to_be_hidden()
    expect(nameless.locator("#chat-needs-name")).to_be_visible()
    expect(nameless.locator("#board button:enabled")).to_have_count(0)
    # Even sent by hand, its chat and its moves are refused, not taken as bob's.
    nameless.evaluate("window.__match.chat('whose words are these?')")
    expect(nameless.locator("#error")).to_have_text("log in to chat")
    nameless.evaluate("window.__match.move({cell: 0})")
    expect(nameless.locator("#error")).to_have_text("only the match's players may do that")
    bob.fill("#chat-text", "bob here")
    bob.click("#chat-form button")
    expect(alice.locator("#chat-lines li")).to_have_text(["bob: bob here"])
    cell(bob, 9).click()
    expect(cell(alice, 9)).to_have_text("O")
    expect(cell(alice, 1)).to_have_text("")

    # A session cookie that something else set in this browser makes nobody of it either.
    created = alice.context.request.post(people.site + "/api/players", data={"name": "mallory"})
    assert created.status == 201 and any(c["name"] == "sessionid" for c in alice.context.cookies())
    nameless.reload()
    expect(nameless.locator("#connection")).to_have_attribute("data-state", "open")
    nameless.evaluate("window.__match.chat('and now?')")
    expect(nameless.locator("#error")).to_have_text("log in to chat")
    alice.reload()  # and alice's tab is still alice
    expect(alice.locator("#side")).to_have_text("You play X.")
    alice.fill("#chat-text", "still alice")
    alice.click("#chat-form button")
    expect(bob.locator("#chat-lines li").last).to_have_text("alice: still alice")

    # Once a name is entered, the tab is that player.
    enter_name(nameless, "carol")
    expect(nameless.locator("#connection")).to_have_attribute("data-state", "open")
    nameless.fill("#chat-text", "carol here")
    nameless.click("#chat-form button")
    expect(bob.locator("#chat-lines li").last).to_have_text("carol (watching): carol here")
    assert "whose words are these?" not in bob.locator("#chat-lines").inner_text()


def test_an_entrant_always_sees_their_entry_and_how_to_pay(people: People) -> None:
    cup = tournaments.create_tournament("Autumn cup", "tictactoe", {}, 500, "eur", 4, None)
    carol = people.open(f"/tournaments/{cup.pk}/", "carol")
    carol.click("#enter")
    expect(carol.locator("#payment")).to_contain_text("Pay 5.00 EUR with stripe, reference entry_")
    reference = tournaments.Entry.objects.get(tournament=cup).client_reference_id
    expect(carol.locator("#payment")).to_contain_text(reference)

    carol.reload()  # the reference is still there, and carol is still entered
    expect(carol.locator("#entries li", has_text="carol")).to_have_text("carol: pending payment")
    expect(carol.locator("#payment")).to_contain_text(
        f"Your entry is pending payment. Pay 5.00 EUR with stripe, reference {reference}"
    )
    expect(carol.locator("#enter")).to_be_hidden()
    watcher = people.tab(carol, f"/tournaments/{cup.pk}/")  # nobody, in carol's browser: no reference
    expect(watcher.locator("#entries li")).to_have_count(1)
    expect(watcher.locator("#payment")).to_be_hidden()

    tournaments.Entry.objects.filter(client_reference_id=reference).update(status="confirmed")  # the gateway paid
    carol.reload()
    expect(carol.locator("#payment")).to_have_text(
        f"Your entry is confirmed (5.00 EUR with stripe, reference {reference})."
    )


def test_a_page_whose_origin_the_sockets_refuse_says_why_and_stops(browser: Browser, tmp_path: Path) -> None:
    # The README's deploy advice allows only the https origin; the page is opened over plain http.
    with running_processes(tmp_path, env={"WEBSOCKET_ALLOWED_ORIGINS": "https://127.0.0.1"}) as (urls, _):
        site = urls[0]
        alice = httpx.post(f"{site}/api/players", json={"name": "alice"}).json()
        match = httpx.post(
            f"{site}/api/matches", json={"game": "chess"}, headers={"Authorization": f"Bearer {alice['token']}"}
        ).json()
        people = People(browser, site)
        page = people.open(f"/matches/{match['id']}/")
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.reload()
        expect(page.locator("#socket-refusal")).to_contain_text("this page was opened over plain http")
        expect(page.locator("#socket-refusal a")).to_have_attribute("href", f"https://127.0.0.1/matches/{match['id']}/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "refused")
        screenshot(page, "origin-refused.png")
        page.goto(site + "/")  # the lobby's socket too
        expect(page.locator("#lobby-status")).to_have_text("(refused)")
        page.wait_for_timeout(1000)
        assert sockets == [], "no socket is even tried: it would only be refused, again and again"
        assert people.errors == []


@pytest.fixture
def nim_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A live server that also plays the test-only Nim (tests/nim_app), a game
    without a board script; registered in this process too, for the checks
    that replay every match after the test, and removed afterwards."""
    from games.engine import register, registry
    from tests.nim_app.rules import Nim

    monkeypatch.setattr(registry, "_games", dict(registry._games))
    register(Nim)
    with running_processes(tmp_path, env={"DJANGO_SETTINGS_MODULE": "tests.live_settings"}) as (urls, _):
        yield urls[0]


def test_a_game_without_a_board_script_plays_on_the_generic_board(browser: Browser, nim_site: str) -> None:
    people = People(browser, nim_site)
    listed = httpx.get(f"{nim_site}/api/games").json()["games"]
    nim = next(game for game in listed if game["slug"] == "nim")
    assert nim["board_script"] is None and nim["board_url"] is None
    assert nim["move_schema"]["required"] == ["take"]

    alice, bob = new_match(people, "nim")  # the lobby lists whatever the server plays
    expect(alice.locator("#title")).to_contain_text("Nim · match")
    for page in (alice, bob):  # the state as the server sent it
        expect(page.locator(".generic-state tr", has_text="pile")).to_contain_text("7")
    expect(bob.get_by_role("button", name="Make the move")).to_be_disabled()  # not bob's turn

    # A number input for the integer, a text input for the string, a checkbox for the boolean.
    expect(alice.get_by_label("Take", exact=True)).to_have_attribute("type", "number")
    expect(alice.get_by_label("Take", exact=True)).to_have_attribute("max", "3")
    alice.get_by_label("Take", exact=True).fill("2")
    alice.get_by_label("Say", exact=True).fill("two for me")
    alice.get_by_label("Bluff", exact=True).check()
    alice.click("text=Make the move")
    for page in (alice, bob):
        expect(page.locator(".generic-state tr", has_text="pile")).to_contain_text("5")
        expect(page.locator(".generic-state tr", has_text="said")).to_contain_text("two for me (bluffing)")
    expect(bob.locator("#status")).to_have_text("Your move.")
    screenshot(bob, "generic-board.png")
    watcher = people.open(alice.url.removeprefix(nim_site))  # a spectator sees the state, and no form
    expect(watcher.locator(".generic-state tr", has_text="pile")).to_contain_text("5")
    expect(watcher.locator(".generic-move")).to_have_count(0)

    bob.get_by_label("Take", exact=True).fill("3")  # the optional fields stay out of the move
    bob.click("text=Make the move")
    expect(alice.locator(".generic-state tr", has_text="pile")).to_contain_text("2")
    alice.get_by_label("Take", exact=True).fill("3")  # the rules refuse it: the reason shows, the form is free again
    alice.click("text=Make the move")
    expect(alice.locator("#error")).to_contain_text("only 2 left")
    expect(alice.get_by_role("button", name="Make the move")).to_be_enabled()
    alice.get_by_label("Take", exact=True).fill("2")
    alice.click("text=Make the move")
    expect(alice.locator("#status")).to_have_text("You won (last stone)!")
    expect(bob.locator("#status")).to_have_text("alice won (last stone).")

    alice.click("#replay-link")
    logged = alice.locator("#log li").filter(has_text=":")
    expect(logged).to_have_count(3)
    # The stored move's key order is the database's (PostgreSQL's jsonb sorts keys): compare as JSON.
    shown = [line.split(": ", 1) for line in logged.all_text_contents()]
    assert [(name, json.loads(move)) for name, move in shown] == [
        ("alice", {"take": 2, "say": "two for me", "bluff": True}),
        ("bob", {"take": 3, "bluff": False}),
        ("alice", {"take": 2, "bluff": False}),
    ]
    expect(alice.locator(".generic-state tr", has_text="pile")).to_contain_text("0")
    assert people.errors == []


def test_reversi_draws_its_own_board_and_plays_by_clicking(people: People) -> None:
    alice, bob = new_match(people, "reversi")
    expect(alice.locator("#side")).to_have_text("You play black.")  # the sides come with the board script
    expect(bob.locator("#side")).to_have_text("You play white.")
    board = "[aria-label='Reversi board']"
    expect(alice.locator(f"{board} .sq.legal")).to_have_count(4)  # black's four openings
    expect(bob.locator(f"{board} .sq.legal")).to_have_count(0)
    alice.locator(f"{board} [data-row='2'][data-col='3']").click()  # d3
    for page in (alice, bob):
        expect(page.locator(f"{board} [data-row='2'][data-col='3'] .disc.B")).to_be_visible()
        expect(page.locator(f"{board} [data-row='3'][data-col='3'] .disc.B")).to_be_visible()  # flipped
    expect(bob.locator("#status")).to_have_text("Your move.")
    bob.locator(f"{board} .sq.legal").first.click()
    expect(alice.locator("#status")).to_have_text("Your move.")
    expect(alice.locator(".reversi .score")).to_contain_text("black 3")
    screenshot(alice, "reversi.png")
