"""The matchmaking app's pages (its API is mounted on the one API in apps.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
