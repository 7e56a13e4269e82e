"""The pages: Django templates plus the ES modules in games/static/games/."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def lobby(request: HttpRequest) -> HttpResponse:
    return render(request, "games/lobby.html")


def match_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return render(request, "games/match.html", {"match_id": match_id})


def replay_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return render(request, "games/replay.html", {"match_id": match_id})


def tournament_page(request: HttpRequest, tournament_id: int) -> HttpResponse:
    return render(request, "games/tournament.html", {"tournament_id": tournament_id})
