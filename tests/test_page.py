"""The first page and its static files, as a browser fetches them."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_index_page_sets_csrf_cookie_and_loads_the_script() -> None:
    client = Client()
    response = client.get("/")
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    html = response.content.decode()
    assert '<script type="module" src="/static/games/index.js">' in html
    assert 'id="board"' in html and 'for="name"' in html


@pytest.mark.parametrize("path", ["/static/games/index.js", "/static/games/index.css", "/static/admin/css/base.css"])
def test_static_files_are_served_without_collectstatic(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
