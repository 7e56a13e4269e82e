"""Ratings in a real browser (Playwright and Debian's Chromium against a real
daphne, as in test_browser.py): a rated match created from the lobby shows
the ratings beside the names and the change at the end, names lead to the
profile, and the leaderboards show where everyone stands."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401 - the fixtures, shared
    People,
    browser,
    cell,
    orm_beside_playwright,
    people,
    screenshot,
    site,
)

pytestmark = pytest.mark.django_db(transaction=True)
MINUS = "\u2212"  # the pages write a rating change's sign as a real minus


def test_a_rated_match_shows_ratings_and_leads_to_profiles_and_leaderboards(people: People) -> None:  # noqa: F811
    alice = people.open("/", "alice")
    alice.select_option("#game", "tictactoe")
    alice.check("#rated")
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    bob = people.open(alice.url.removeprefix(people.site), "bob")
    bob.click("#take-seat")
    for page in (alice, bob):
        expect(page.locator("#rated")).to_have_text("Rated · Tic-tac-toe")
        expect(page.locator("#players li")).to_have_text(
            [re.compile(r"^alice \(1500\?\) · X"), re.compile(r"^bob \(1500\?\) · O")]
        )
    cell(alice, 1).click()
    expect(bob.locator("#status")).to_have_text("Your move.")
    cell(bob, 5).click()
    expect(alice.locator("#status")).to_have_text("Your move.")
    bob.click("#resign")
    for page in (alice, bob):
        changes = page.locator("#rating-changes")
        expect(changes).to_contain_text(re.compile(r"alice 1500 → 1\d{3}\? \(\+\d+\.\d\)"))
        expect(changes).to_contain_text(re.compile(rf"bob 1500 → 1\d{{3}}\? \({MINUS}\d+\.\d\)"))
        expect(page.locator("#players li").first).to_contain_text(re.compile(r"alice \(1\d{3}\?, \+\d+\.\d\)"))
    screenshot(bob, "rated-match-finished.png")

    bob.locator("#players li").first.get_by_role("link", name="alice").click()
    bob.wait_for_url(re.compile(r"/players/\d+/$"))
    expect(bob.locator("#title")).to_have_text("alice")
    expect(bob.locator("#ratings tbody tr")).to_have_count(1)
    expect(bob.locator("#ratings tbody tr")).to_contain_text("Tic-tac-toe")
    expect(bob.locator("#ratings tbody tr")).to_contain_text("provisional")
    expect(bob.locator("#history li")).to_contain_text(re.compile(r"match \d+ · Tic-tac-toe · 1500 → 1\d{3} \(\+"))
    expect(bob.locator("#matches li").first).to_contain_text("against bob · won · rated")
    screenshot(bob, "profile.png")

    bob.click("nav >> text=Leaderboards")
    expect(bob.locator("#boards li")).to_have_text(["Tic-tac-toe · 0 ranked, 2 provisional"])
    bob.click("#boards >> text=Tic-tac-toe")
    expect(bob.locator("#title")).to_have_text("Leaderboard · Tic-tac-toe")
    expect(bob.locator("#empty")).to_be_visible()
    expect(bob.locator("#me-summary")).to_contain_text("You are not on this leaderboard yet")
