"""The ratings pages: the leaderboards, one pool's leaderboard, a player's
profile (templates extending the games' base, ES modules in
``ratings/static/ratings/``, data from the ratings API)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from games.models import Player
from games.views import page
from ratings import leaderboards


def leaderboards_page(request: HttpRequest) -> HttpResponse:
    return page(request, "ratings/leaderboards.html")


def leaderboard_page(request: HttpRequest, pool: str) -> HttpResponse:
    try:
        leaderboards.check_pool(pool)
    except leaderboards.UnknownPool:
        raise Http404(f"no rating pool {pool[:64]!r}") from None
    return page(request, "ratings/leaderboard.html", pool=pool)


def player_page(request: HttpRequest, player_id: int) -> HttpResponse:
    if not Player.objects.filter(pk=player_id).exists():
        raise Http404(f"no player {player_id}")
    return page(request, "ratings/player.html", player_id=player_id)
