"""The ratings app's WebSocket routes (composed in ``gameproject/asgi.py``)."""

from typing import Any

websocket_urlpatterns: list[Any] = []
