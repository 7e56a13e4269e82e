"""The pages and their static files, as a browser fetches them (the pages'
behaviour is tested in a real browser in test_browser.py)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path, script",
    [
        ("/", "games/pages/lobby.js"),
        ("/matches/1/", "games/pages/match.js"),
        ("/matches/1/replay/", "games/pages/replay.js"),
        ("/tournaments/1/", "games/pages/tournament.js"),
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
        "/static/games/pages/common.js",
        "/static/games/site.css",
        "/static/admin/css/base.css",
    ],
)
def test_static_files_are_served_without_collectstatic(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
