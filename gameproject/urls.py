from django.contrib import admin
from django.urls import include, path, re_path

from games import monitoring
from games.api import api
from games.http_errors import json_error_urls, unknown_url
from games.views import lobby, match_page, replay_page

urlpatterns = [
    path("", lobby, name="lobby"),
    path("matches/<int:match_id>/", match_page, name="match"),
    path("matches/<int:match_id>/replay/", replay_page, name="replay"),
    path("", include("tournaments.urls")),
    path("", include("ratings.urls")),
    path("", include("bots.urls")),
    path("", include("matchmaking.urls")),
    path("admin/", admin.site.urls),
    path("health/live", monitoring.live, name="health-live"),
    path("health/ready", monitoring.ready, name="health-ready"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("api/", json_error_urls(api.urls)),
    path("", include("payments.urls")),
    # Last: any other path under the JSON prefixes is a JSON 404.
    re_path(r"^(?:api|webhooks)/", unknown_url),
]

# What fails before a view runs (a disallowed host, a body too large for a
# middleware): the JSON envelope under /api/ and /webhooks/, Django's pages elsewhere.
handler400 = "games.http_errors.bad_request"
handler403 = "games.http_errors.permission_denied"
handler404 = "games.http_errors.page_not_found"
handler500 = "games.http_errors.server_error"
