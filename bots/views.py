"""The "Play the computer" page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from games.views import page


def computer_page(request: HttpRequest) -> HttpResponse:
    return page(request, "bots/computer.html")
