"""The matchmaking app's WebSocket routes (composed in ``gameproject/asgi.py``)."""

from __future__ import annotations

from django.urls import path

from matchmaking.consumers import QueueConsumer

websocket_urlpatterns = [
    path("ws/queue/", QueueConsumer.as_asgi()),
]
