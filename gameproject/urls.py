from django.contrib import admin
from django.urls import path

from games.api import api
from games.views import index
from games.webhooks import payments_webhook, stripe_webhook

urlpatterns = [
    path("", index, name="index"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("webhooks/payments/<str:provider>", payments_webhook, name="payments-webhook"),
]
