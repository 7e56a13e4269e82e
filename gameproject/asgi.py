"""ASGI entry point: HTTP goes to Django, WebSockets to the games' consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gameproject.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from games.background import with_background_tasks  # noqa: E402
from games.routing import websocket_application  # noqa: E402

application = with_background_tasks(ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application}))
