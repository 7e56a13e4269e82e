"""Quick play in a real browser (Playwright driving Debian's Chromium against
a real daphne; the fixtures are tests/test_browser.py's): two people press
"Play now" for the same game and time control and both land on the same
match page, seated and playing."""

from __future__ import annotations

import re

from tests.test_browser import (  # noqa: F401 (fixtures used by name)
    People,
    browser,
    orm_beside_playwright,
    people,
    pytestmark,
    screenshot,
    site,
)

from playwright.sync_api import expect  # isort: skip  (after the module-level skip without chromium)

MATCH_URL = re.compile(r"/matches/\d+/$")


def test_two_browsers_press_play_now_and_land_in_the_same_match(people: People) -> None:  # noqa: F811
    alice = people.open("/play/", "alice")
    bob = people.open("/play/", "bob")

    # alice first changes her mind: the wait shows, and cancel ends it.
    alice.get_by_role("button", name="Play now: Chess 1+0").click()
    expect(alice.locator("#waiting-text")).to_contain_text("Waiting for an opponent: Chess 1+0, rated")
    alice.get_by_role("button", name="Cancel").click()
    expect(alice.locator("#waiting")).to_be_hidden()
    expect(alice.get_by_role("button", name="Play now: Chess 1+0")).to_be_enabled()

    alice.get_by_role("button", name="Play now: Chess 3+2").click()
    expect(alice.locator("#waiting-text")).to_contain_text("Chess 3+2, rated")
    screenshot(alice, "play-now-waiting.png")
    bob.get_by_role("button", name="Play now: Chess 3+2").click()

    alice.wait_for_url(MATCH_URL)
    bob.wait_for_url(MATCH_URL)
    assert alice.url == bob.url
    for page in (alice, bob):
        expect(page.locator("#players li")).to_have_count(2)
        expect(page.locator("#side")).to_have_text(re.compile(r"You play (white|black)\."))
    sides = {page.locator("#side").inner_text() for page in (alice, bob)}
    assert sides == {"You play white.", "You play black."}
    screenshot(bob, "play-now-paired.png")
