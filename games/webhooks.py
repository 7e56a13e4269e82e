"""Payment gateways' webhooks: verify, store, then process exactly once.

* ``POST /webhooks/stripe``: Stripe's ``Stripe-Signature``, verified with the
  ``stripe`` package over the raw body with its 300 s tolerance.
* ``POST /webhooks/payments/<provider>``: any gateway following Standard
  Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``),
  verified with the ``standardwebhooks`` package.

Secrets come from ``STRIPE_WEBHOOK_SECRET`` and
``PAYMENTS_<PROVIDER>_WEBHOOK_SECRET``; each may list several, comma-separated,
all valid at once for key rotation.

Every delivery is stored first. A genuine delivery claims its event id through
a unique constraint (not a read-then-write check), so of any number of
identical deliveries arriving together exactly one is processed; the others
are stored as duplicates. Processing runs in one transaction under the
stored row's lock: an unexpected failure rolls it back, stores the error and
answers 500 so the gateway retries, and the retry processes it again.
"""

from __future__ import annotations

import binascii
import json
import logging
import os
import re
import traceback
from collections.abc import Callable
from typing import Any

import standardwebhooks
import stripe
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from games import payments
from games.models import PaymentEvent

logger = logging.getLogger(__name__)

STRIPE_TOLERANCE_SECONDS = 300
PROVIDER_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
STORED_HEADERS = ("content-type", "user-agent", "stripe-signature", "webhook-id", "webhook-timestamp",
                  "webhook-signature")  # fmt: skip
FINAL_OUTCOMES = {PaymentEvent.Outcome.PROCESSED, PaymentEvent.Outcome.IGNORED, PaymentEvent.Outcome.FLAGGED}

Payload = dict[str, Any]
Handler = Callable[[Payload], tuple[str, str]]


class InvalidSignature(Exception):
    pass


class MalformedPayload(Exception):
    """Signed by the gateway but not the shape we expect: kept for staff."""


def secrets_from(variable: str) -> list[str]:
    return [secret.strip() for secret in os.environ.get(variable, "").split(",") if secret.strip()]


def _reply(status: int, outcome: str, detail: str = "") -> JsonResponse:
    return JsonResponse({"outcome": outcome, "detail": detail}, status=status)


# --- Stripe ------------------------------------------------------------------


def verify_stripe(body: bytes, headers: dict[str, str], secrets: list[str]) -> tuple[str, str, Payload]:
    header = headers.get("stripe-signature", "")
    text = body.decode("utf-8", errors="replace")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, STRIPE_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            continue
        payload = json.loads(text)
        return str(payload.get("id", "")), str(payload.get("type", "")), payload
    raise InvalidSignature("no valid Stripe-Signature for any configured secret (or the timestamp is too old)")


def _stripe_object(payload: Payload) -> Payload:
    try:
        return payload["data"]["object"]
    except (KeyError, TypeError):
        raise MalformedPayload("no data.object") from None


def _session_paid(session: Payload) -> tuple[str, str]:
    try:
        return payments.payment_succeeded(
            str(session["client_reference_id"]),
            int(session["amount_total"]),
            str(session["currency"]),
            session.get("payment_intent"),
        )
    except (KeyError, TypeError, ValueError):
        raise MalformedPayload("a checkout session needs client_reference_id, amount_total and currency") from None


def on_checkout_completed(payload: Payload) -> tuple[str, str]:
    session = _stripe_object(payload)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _session_paid(session)
    # Delayed methods (bank debits): the money is not there yet.
    return payments.payment_pending(
        str(session.get("client_reference_id")), session.get("payment_intent"), "awaiting an asynchronous payment"
    )


def on_async_payment_failed(payload: Payload) -> tuple[str, str]:
    session = _stripe_object(payload)
    return payments.payment_pending(
        str(session.get("client_reference_id")), session.get("payment_intent"), "the asynchronous payment failed"
    )


def on_charge_refunded(payload: Payload) -> tuple[str, str]:
    charge = _stripe_object(payload)
    if not charge.get("payment_intent"):
        raise MalformedPayload("a refunded charge needs its payment_intent")
    if not charge.get("refunded"):
        return payments.FLAGGED, f"partial refund of {charge.get('amount_refunded')} on {charge['payment_intent']}"
    return payments.payment_refunded(payment_intent=str(charge["payment_intent"]))


STRIPE_HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.async_payment_succeeded": lambda payload: _session_paid(_stripe_object(payload)),
    "checkout.session.async_payment_failed": on_async_payment_failed,
    "charge.refunded": on_charge_refunded,
}


# --- Standard Webhooks ------------------------------------------------------------


def verify_standard(body: bytes, headers: dict[str, str], secrets: list[str]) -> tuple[str, str, Payload]:
    for secret in secrets:
        try:
            payload = standardwebhooks.Webhook(secret).verify(body, headers)
        except (standardwebhooks.WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
            continue  # the library raises ValueError/binascii.Error on a malformed signature header
        if not isinstance(payload, dict):
            raise InvalidSignature("the payload is not a JSON object")
        return headers.get("webhook-id", ""), str(payload.get("type", "")), payload
    raise InvalidSignature("no valid webhook-signature for any configured secret (or the timestamp is out of range)")


def _standard_data(payload: Payload) -> Payload:
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("reference"), str):
        raise MalformedPayload("data.reference is missing")
    return data


def on_standard_succeeded(payload: Payload) -> tuple[str, str]:
    data = _standard_data(payload)
    amount, currency = data.get("amount"), data.get("currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        raise MalformedPayload("data.amount (an integer) and data.currency are required")
    return payments.payment_succeeded(data["reference"], amount, currency)


STANDARD_HANDLERS: dict[str, Handler] = {
    "payment.succeeded": on_standard_succeeded,
    "payment.refunded": lambda payload: payments.payment_refunded(reference=_standard_data(payload)["reference"]),
}


# --- the shared path -------------------------------------------------------


def _claim(provider: str, event_id: str, kind: str, body: str, headers: dict[str, str]) -> PaymentEvent:
    """Store a genuine delivery; returns the canonical row for its event id
    (this delivery's, or the one that claimed the id first)."""
    fields = {"provider": provider, "event_id": event_id, "type": kind, "body": body, "headers": headers}
    try:
        with transaction.atomic():
            return PaymentEvent.objects.create(**fields, signature_valid=True)
    except IntegrityError:
        PaymentEvent.objects.create(
            **fields, signature_valid=True, duplicate=True, outcome=PaymentEvent.Outcome.DUPLICATE
        )
        return PaymentEvent.objects.get(provider=provider, event_id=event_id, signature_valid=True, duplicate=False)


def process(event_pk: int, handlers: dict[str, Handler]) -> JsonResponse:
    """Process a stored delivery once, under its row lock (also used by the
    admin's reprocess action)."""
    try:
        with transaction.atomic():
            event = PaymentEvent.objects.select_for_update().get(pk=event_pk)
            if event.outcome in FINAL_OUTCOMES:
                return _reply(200, "duplicate", f"event {event.event_id} was already {event.outcome}")
            handler = handlers.get(event.type)
            if handler is None:
                event.outcome, event.error = PaymentEvent.Outcome.IGNORED, f"unhandled event type {event.type!r}"
            else:
                try:
                    event.outcome, event.error = handler(json.loads(event.body))
                except MalformedPayload as problem:
                    event.outcome, event.error = PaymentEvent.Outcome.FLAGGED, f"malformed payload: {problem}"
            event.processed_at = timezone.now()
            event.save(update_fields=["outcome", "error", "processed_at"])
    except Exception:
        logger.exception("processing payment event %s failed", event_pk)
        PaymentEvent.objects.filter(pk=event_pk).update(
            outcome=PaymentEvent.Outcome.FAILED, error=traceback.format_exc(limit=5)
        )
        return _reply(500, "failed", "processing failed; the error is stored and a retry will process it again")
    return _reply(200, event.outcome, event.error)


def receive(
    request: HttpRequest,
    provider: str,
    secrets: list[str],
    verify: Callable[[bytes, dict[str, str], list[str]], tuple[str, str, Payload]],
    handlers: dict[str, Handler],
) -> JsonResponse:
    headers = {name.lower(): value for name, value in request.headers.items() if name.lower() in STORED_HEADERS}
    body = request.body
    text = body.decode("utf-8", errors="replace")
    if not secrets:
        return _reply(404, "not_configured", f"no webhook secret is configured for {provider}")
    try:
        event_id, kind, _ = verify(body, headers, secrets)
    except (InvalidSignature, ValueError) as problem:
        PaymentEvent.objects.create(
            provider=provider, event_id=headers.get("webhook-id", "")[:200], body=text, headers=headers,
            signature_valid=False, outcome=PaymentEvent.Outcome.INVALID_SIGNATURE, error=str(problem),
        )  # fmt: skip
        return _reply(400, "invalid_signature", str(problem))
    if not event_id:
        return _reply(400, "invalid_payload", "the event has no id")
    canonical = _claim(provider, event_id[:200], kind[:100], text, headers)
    return process(canonical.pk, handlers)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    return receive(request, "stripe", secrets_from("STRIPE_WEBHOOK_SECRET"), verify_stripe, STRIPE_HANDLERS)


@csrf_exempt
@require_POST
def payments_webhook(request: HttpRequest, provider: str) -> JsonResponse:
    if not PROVIDER_SLUG.match(provider) or provider == "stripe":
        return _reply(404, "unknown_provider", f"unknown provider {provider!r}")
    variable = f"PAYMENTS_{provider.upper().replace('-', '_')}_WEBHOOK_SECRET"
    return receive(request, provider, secrets_from(variable), verify_standard, STANDARD_HANDLERS)


HANDLERS_BY_PROVIDER = {"stripe": STRIPE_HANDLERS}


def handlers_for(provider: str) -> dict[str, Handler]:
    return HANDLERS_BY_PROVIDER.get(provider, STANDARD_HANDLERS)
