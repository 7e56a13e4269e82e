"""The matchmaking app's pages (its API is mounted on the one API in apps.py)."""

from django.urls import path

from matchmaking.views import play_page

urlpatterns = [
    path("play/", play_page, name="play"),
]
