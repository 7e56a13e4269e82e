"""The ratings app's pages (its API is mounted on the one API in apps.py)."""

from django.urls import URLPattern, path

from ratings.views import leaderboard_page, leaderboards_page, player_page

urlpatterns: list[URLPattern] = [
    path("leaderboards/", leaderboards_page, name="leaderboards"),
    path("leaderboards/<str:pool>/", leaderboard_page, name="leaderboard"),
    path("players/<int:player_id>/", player_page, name="player"),
]
