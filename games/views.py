from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The first page: name, create or join a tic-tac-toe match, play it live."""
    return render(request, "games/index.html")
