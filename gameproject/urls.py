from django.contrib import admin
from django.urls import path

from games.api import api
from games.views import lobby, match_page, replay_page, tournament_page
from games.webhooks import payments_webhook, stripe_webhook

urlpatterns = [
    path("", lobby, name="lobby"),
    path("matches/<int:match_id>/", match_page, name="match"),
    path("matches/<int:match_id>/replay/", replay_page, name="replay"),
    path("tournaments/<int:tournament_id>/", tournament_page, name="tournament"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("webhooks/payments/<str:provider>", payments_webhook, name="payments-webhook"),
]
