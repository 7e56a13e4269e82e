"""The bots app's WebSocket routes (composed in ``gameproject/asgi.py``): none.

Only the ASGI application imports this module, so importing it marks this
process as a server (``bots.runner``): bots then run here only with
``BOTS_IN_PROCESS``, and otherwise in the worker.
"""

from typing import Any

from bots.runner import mark_serving

websocket_urlpatterns: list[Any] = []

mark_serving()
