"""The pages and their static files, and what the pages need from the API,
as a browser fetches them (the pages' behaviour is tested in a real browser
in test_browser.py)."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

from games.engine import all_games
from games.models import Player
from tournaments import services as tournaments

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path, script",
    [
        ("/", "games/pages/lobby.js"),
        ("/matches/1/", "games/pages/match.js"),
        ("/matches/1/replay/", "games/pages/replay.js"),
        ("/tournaments/1/", "tournaments/tournament.js"),
    ],
)
def test_pages_load_their_module(path: str, script: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<script type="module" src="/static/{script}">' in html
    assert 'for="name"' in html and '<meta name="viewport"' in html


def test_lobby_sets_the_csrf_cookie() -> None:
    assert "csrftoken" in Client().get("/").cookies


@pytest.mark.parametrize(
    "path",
    [
        "/static/games/client.js",
        "/static/games/boards.js",
        "/static/classic_games/chess.js",
        "/static/games/pages/common.js",
        "/static/games/site.css",
        "/static/admin/css/base.css",
    ],
)
def test_static_files_are_served_without_collectstatic(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


@override_settings(WEBSOCKET_ALLOWED_ORIGINS=["https://testserver"])
def test_a_page_on_plain_http_says_its_sockets_need_https() -> None:
    html = Client().get("/matches/7/").content.decode()
    assert 'data-socket-refusal="Live play needs the site&#x27;s secure address' in html
    assert '<a href="https://testserver/matches/7/">' in html
    behind_the_router = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "testserver"}
    for secure in ({"secure": True}, behind_the_router):
        html = Client().get("/matches/7/", **secure).content.decode()
        assert 'data-socket-refusal=""' in html and 'id="socket-refusal"' not in html


@override_settings(WEBSOCKET_ALLOWED_ORIGINS=["https://play.example.com"])
def test_a_page_on_an_origin_the_sockets_refuse_says_so() -> None:
    html = Client().get("/", secure=True).content.decode()
    assert "The server does not accept live connections from pages at https://testserver" in html
    assert "WEBSOCKET_ALLOWED_ORIGINS" in html


@override_settings(WEBSOCKET_ALLOWED_ORIGINS=["localhost", "testserver"])
def test_a_page_on_an_allowed_origin_has_no_refusal() -> None:
    html = Client().get("/tournaments/1/").content.decode()
    assert 'data-socket-refusal=""' in html and 'id="socket-refusal"' not in html


def test_games_say_whether_they_have_draw_offers() -> None:
    games = Client().get("/api/games").json()["games"]
    assert {g["slug"]: g["allows_draw_offers"] for g in games} == {
        game.slug: game.allows_draw_offers for game in all_games()
    }


def test_an_entrant_sees_their_own_entry_and_how_to_pay(make_player: Callable[[str], Player]) -> None:
    cup = tournaments.create_tournament("Cup", "chess", {}, 500, "eur", 4, None)
    carol, dave = make_player("carol"), make_player("dave")
    entry = tournaments.enter(cup.pk, carol)

    def my_entry(player: Player | None) -> dict | None:
        headers = {"Authorization": f"Bearer {player.token}"} if player else {}
        response = Client().get(f"/api/tournaments/{cup.pk}", headers=headers)
        assert response.status_code == 200
        return response.json()["my_entry"]

    payment = {"provider": "stripe", "client_reference_id": entry.client_reference_id, "amount": 500, "currency": "eur"}
    assert my_entry(carol) == {"id": entry.pk, "status": "pending_payment", "payment": payment}
    assert my_entry(dave) is None and my_entry(None) is None  # nobody else sees it
    assert entry.client_reference_id not in Client().get(f"/api/tournaments/{cup.pk}").content.decode()


def test_a_free_entry_has_no_payment(make_player: Callable[[str], Player]) -> None:
    cup = tournaments.create_tournament("Free cup", "chess", {}, 0, "eur", 4, None)
    carol = make_player("carol")
    entry = tournaments.enter(cup.pk, carol)
    response = Client().get(f"/api/tournaments/{cup.pk}", headers={"Authorization": f"Bearer {carol.token}"})
    assert response.json()["my_entry"] == {"id": entry.pk, "status": "confirmed", "payment": None}


def test_games_describe_themselves_with_their_board_url() -> None:
    listed = Client().get("/api/games").json()["games"]
    assert [game["slug"] for game in listed] == [game.slug for game in all_games()]
    for entry, game in zip(listed, all_games(), strict=True):
        assert entry == {**game.describe(), "board_url": f"/static/{game.board_script}" if game.board_script else None}
        if game.board_script:  # every board script is there, and served
            assert finders.find(game.board_script), game.board_script
            response = Client().get(entry["board_url"])
            assert response.status_code == 200 and b"registerBoard" in b"".join(response.streaming_content)


def test_collectstatic_hashes_the_board_scripts_and_keeps_what_they_import(tmp_path: Path) -> None:
    """Production may serve hashed names (WhiteNoise's manifest storage):
    board_url names the hashed file, and the shared module a board script
    imports by its relative path is collected under its own name too."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        for game in all_games():
            if not game.board_script:
                continue
            url = static(game.board_script)
            assert url != f"/static/{game.board_script}" and (tmp_path / url.removeprefix("/static/")).is_file()
            board = (tmp_path / url.removeprefix("/static/")).read_text()
            for imported in re.findall(r'from "(\.[^"]+)"', board):
                assert (tmp_path / url.removeprefix("/static/")).parent.joinpath(imported).resolve().is_file()
        assert (tmp_path / "games" / "boards.js").is_file()
