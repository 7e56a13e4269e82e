"""The tournament page: entries and the bracket, live over the tournament socket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from games.views import page


def tournament_page(request: HttpRequest, tournament_id: int) -> HttpResponse:
    return page(request, "tournaments/tournament.html", tournament_id=tournament_id)
