"""Staff see matches, players and the move log in the Django admin."""

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from games import services
from games.models import Match, MatchEvent, Player

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_match_page_shows_players_and_the_move_log(staff: Client, active_match: dict[str, Any], alice: Player) -> None:
    services.play_move(active_match["id"], alice, {"cell": 4})
    listing = staff.get("/admin/games/match/?status__exact=active").content.decode()
    assert "alice, bob" in listing
    page = staff.get(f"/admin/games/match/{active_match['id']}/change/").content.decode()
    assert "{&quot;cell&quot;: 4}" in page  # the move, in the inline log
    assert page.count('<td class="field-kind">') == 3  # join, join, move
    assert re.search(r'field-whose_turn">(?:(?!field-).)*?<div class="readonly">seat 1</div>', page, re.S)


def test_admin_search_and_other_pages(staff: Client, active_match: dict[str, Any]) -> None:
    assert staff.get("/admin/games/match/?q=bob").content.decode().count("field-game") == 1
    assert staff.get("/admin/games/match/?q=nobody").content.decode().count("field-game") == 0
    for page in ["/admin/games/player/", "/admin/games/matchevent/", "/admin/games/ticket/"]:
        assert staff.get(page).status_code == 200


def test_abort_action_goes_through_the_log(staff: Client, active_match: dict[str, Any]) -> None:
    response = staff.post(
        "/admin/games/match/", {"action": "abort", "_selected_action": [active_match["id"]]}, follow=True
    )
    assert "Aborted 1 match(es)." in response.content.decode()
    match = Match.objects.get(pk=active_match["id"])
    assert (match.status, match.result, match.seq) == ("aborted", None, 3)
    assert MatchEvent.objects.get(match=match, seq=3).move == {"reason": "aborted by staff"}
    assert services.replay_differences(match) == []


def test_staff_cannot_edit_a_match_or_its_log_by_hand(staff: Client, active_match: dict[str, Any]) -> None:
    page = staff.get(f"/admin/games/match/{active_match['id']}/change/").content.decode()
    assert 'name="status"' not in page and 'name="state"' not in page
    assert staff.get("/admin/games/match/add/").status_code == 403
    event = MatchEvent.objects.filter(match_id=active_match["id"]).first()
    assert staff.get(f"/admin/games/matchevent/{event.pk}/delete/").status_code == 403
