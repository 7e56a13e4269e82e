"""The payment gateways' webhooks."""

from django.urls import path

from payments.webhooks import payments_webhook, stripe_webhook

urlpatterns = [
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("webhooks/payments/<str:provider>", payments_webhook, name="payments-webhook"),
]
