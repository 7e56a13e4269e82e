"""The bots app's pages (its API is mounted on the one API in apps.py)."""

from django.urls import URLPattern, path

from bots.views import computer_page

urlpatterns: list[URLPattern] = [
    path("play/computer/", computer_page, name="play-computer"),
]
