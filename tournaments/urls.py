"""The tournament app's pages (its API is ``tournaments.api.router``)."""

from django.urls import path

from tournaments.views import tournament_page

urlpatterns = [
    path("tournaments/<int:tournament_id>/", tournament_page, name="tournament"),
]
