"""ASGI entry point: HTTP goes to Django, WebSockets to the apps' consumers
(each app's ``routing.websocket_urlpatterns``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gameproject.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from bots import routing as bots_routing  # noqa: E402
from games import routing as games_routing  # noqa: E402
from games.background import with_background_tasks  # noqa: E402
from matchmaking import routing as matchmaking_routing  # noqa: E402
from ratings import routing as ratings_routing  # noqa: E402
from tournaments import routing as tournaments_routing  # noqa: E402

websocket_application = games_routing.socket_application(
    games_routing.websocket_urlpatterns,
    tournaments_routing.websocket_urlpatterns,
    matchmaking_routing.websocket_urlpatterns,
    ratings_routing.websocket_urlpatterns,
    bots_routing.websocket_urlpatterns,
)
application = with_background_tasks(ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application}))
