"""The pages: Django templates plus the ES modules in games/static/games/."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from games.ws_auth import origin_allowed


def socket_refusal(request: HttpRequest) -> dict[str, str] | None:
    """Why this page's sockets would be refused (``reason``, and ``secure_url``
    when the page's https address would be accepted), or None.

    The server asks the handshake's own origin check about the page's origin,
    so a page served from an address the sockets refuse says so at once,
    instead of reconnecting forever to an empty board.
    """
    host = request.get_host()
    origin = f"{request.scheme}://{host}"
    if origin_allowed(origin):
        return None
    # The same host over https, on this port or on https's own.
    secure = [f"https://{address}" for address in dict.fromkeys([host, split_domain_port(host)[0]])]
    allowed = [address for address in secure if origin_allowed(address)]
    if request.scheme == "http" and allowed:
        return {
            "reason": "Live play needs the site's secure address: this page was opened over plain http, "
            "and the server accepts live connections only from https.",
            "secure_url": f"{allowed[0]}{request.get_full_path()}",
        }
    return {
        "reason": f"The server does not accept live connections from pages at {origin}, so nothing here can "
        "update. Whoever runs the site can add this address to WEBSOCKET_ALLOWED_ORIGINS.",
        "secure_url": "",
    }


def page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {**context, "socket_refusal": socket_refusal(request)})


@ensure_csrf_cookie
def lobby(request: HttpRequest) -> HttpResponse:
    return page(request, "games/lobby.html")


def match_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return page(request, "games/match.html", match_id=match_id)


def replay_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return page(request, "games/replay.html", match_id=match_id)
