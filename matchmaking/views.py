"""The quick play page: "Play now" per game and time control."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from games.views import page


def play_page(request: HttpRequest) -> HttpResponse:
    return page(request, "matchmaking/play.html")
