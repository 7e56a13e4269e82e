"""Payment gateways' webhooks: verify, store, then process exactly once.

* ``POST /webhooks/stripe``: Stripe's ``Stripe-Signature``, verified with the
  ``stripe`` package over the raw body; its timestamp must be within 300 s of
  now, past or future (the package bounds only the past).
* ``POST /webhooks/payments/<provider>``: any gateway following Standard
  Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``),
  verified with the ``standardwebhooks`` package.

Secrets come from ``STRIPE_WEBHOOK_SECRET`` and
``PAYMENTS_<PROVIDER>_WEBHOOK_SECRET``; each may list several, comma-separated,
all valid at once for key rotation.

Every delivery is stored first, whatever its bytes (``PaymentEvent.raw_body``
keeps them exactly). A genuine delivery claims its event id through a unique
constraint (not a read-then-write check), so of any number of identical
deliveries arriving together exactly one is processed; the others are stored
as duplicates. A genuine delivery that is not the shape we expect (not a
JSON object, no usable event id, a field of the wrong type or out of range)
is stored as ``malformed`` for staff and answered 200: nothing acts on it,
and the gateway has no reason to retry it. Processing runs in one transaction
under the stored row's lock: an unexpected failure rolls it back, stores the
error and answers 500 so the gateway retries, and the retry processes it again.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import logging
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import standardwebhooks
import stripe
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from prometheus_client import Counter

from games.http_errors import json_errors
from payments import services
from payments.models import PaymentEvent
from payments.signals import entry_flagged

logger = logging.getLogger(__name__)

# Served by /metrics with every other metric of the process (the default registry).
WEBHOOK_DELIVERIES = Counter("games_webhook_deliveries_total", "Payment webhook deliveries by outcome", ["outcome"])

STRIPE_TOLERANCE_SECONDS = 300
PROVIDER_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
STORED_HEADERS = ("content-type", "user-agent", "stripe-signature", "webhook-id", "webhook-timestamp",
                  "webhook-signature")  # fmt: skip
Outcome = PaymentEvent.Outcome
FINAL_OUTCOMES = {Outcome.PROCESSED, Outcome.IGNORED, Outcome.FLAGGED, Outcome.MALFORMED}

# What a genuine event must hold to be acted on; anything else is malformed.
EVENT_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces (evt_..., msg_...)
EVENT_TYPE = re.compile(r"[\x21-\x7e]{0,100}")
CURRENCY = re.compile(r"[A-Za-z]{3}")
AMOUNT_MAX = 2**31 - 1  # Entry.amount_paid
REFERENCE_LENGTH = 200  # Stripe's limit for client_reference_id
PAYMENT_INTENT_LENGTH = 100  # Entry.payment_intent
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: PostgreSQL text holds neither

Payload = dict[str, Any]
Handler = Callable[[Payload], tuple[str, str]]


class InvalidSignature(Exception):
    pass


class MalformedPayload(Exception):
    """Signed by the gateway but not the shape we expect: kept for staff."""


@dataclass(frozen=True)
class Gateway:
    """How one kind of gateway's deliveries are verified, identified and handled."""

    verify: Callable[[bytes, dict[str, str], list[str]], None]  # raises InvalidSignature
    event_id: Callable[[dict[str, str], Payload], Any]  # from the headers or the payload; checked later
    handlers: dict[str, Handler]


def secrets_from(variable: str) -> list[str]:
    return [secret.strip() for secret in os.environ.get(variable, "").split(",") if secret.strip()]


def _reply(status: int, outcome: str, detail: str = "") -> JsonResponse:
    WEBHOOK_DELIVERIES.labels(outcome=str(outcome)).inc()
    return JsonResponse({"outcome": outcome, "detail": detail}, status=status)


def storable(text: str) -> str:
    """``text`` with every NUL character and lone surrogate shown as U+FFFD."""
    return UNSTORABLE.sub("\ufffd", text)


# --- reading a payload: anything not as expected is MalformedPayload ------------------


def parse_payload(body: bytes) -> Payload:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep to decode
        raise MalformedPayload("the body is not JSON that can be read") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("the payload is not a JSON object")
    return payload


def _shown(value: Any) -> str:
    """A short description of a value for a note (never a deep repr)."""
    return repr(value[:40]) if isinstance(value, str) else type(value).__name__


def _event_id(value: Any) -> str:
    if not isinstance(value, str) or not EVENT_ID.fullmatch(value):
        raise MalformedPayload(f"the event id ({_shown(value)}) is not 1 to 200 printable ASCII characters")
    return value


def _event_type(value: Any) -> str:
    if not isinstance(value, str) or not EVENT_TYPE.fullmatch(value):
        raise MalformedPayload(f"the event type ({_shown(value)}) is not up to 100 printable ASCII characters")
    return value


def _text(data: Payload, key: str, max_length: int) -> str | None:
    """``data[key]``, a string we can store and query with, or None when it is null or absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= max_length or UNSTORABLE.search(value):
        raise MalformedPayload(f"{key} ({_shown(value)}) is not a string of 1 to {max_length} storable characters")
    return value


def _required_text(data: Payload, key: str, max_length: int) -> str:
    value = _text(data, key, max_length)
    if value is None:
        raise MalformedPayload(f"{key} is missing")
    return value


def _amount(data: Payload, key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= AMOUNT_MAX:
        raise MalformedPayload(f"{key} ({_shown(value)}) is not a whole number of minor units up to {AMOUNT_MAX}")
    return value


def _currency(data: Payload) -> str:
    value = data.get("currency")
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise MalformedPayload(f"currency ({_shown(value)}) is not a three-letter ISO code")
    return value


# --- Stripe ------------------------------------------------------------------


def _stripe_timestamp(header: str) -> int | None:
    """The timestamp the ``stripe`` package verifies: it reads the header as a
    dict (keys not stripped, the last ``t`` wins), so read it the same way."""
    items = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        return int(items["t"])
    except (KeyError, ValueError):
        return None


def verify_stripe(body: bytes, headers: dict[str, str], secrets: list[str]) -> None:
    header = headers.get("stripe-signature", "")
    text = body.decode("utf-8", errors="replace")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, STRIPE_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            continue
        timestamp = _stripe_timestamp(header)
        if timestamp is None or timestamp > time.time() + STRIPE_TOLERANCE_SECONDS:
            raise InvalidSignature(f"the timestamp is more than {STRIPE_TOLERANCE_SECONDS} s in the future")
        return
    raise InvalidSignature("no valid Stripe-Signature for any configured secret (or the timestamp is too old)")


def _stripe_object(payload: Payload) -> Payload:
    data = payload.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise MalformedPayload("data.object is not an object")
    return found


NOT_AN_ENTRY = (services.FLAGGED, "the checkout session has no client_reference_id: not a tournament entry")


def _session_paid(session: Payload) -> tuple[str, str]:
    reference = _text(session, "client_reference_id", REFERENCE_LENGTH)
    amount, currency = _amount(session, "amount_total"), _currency(session)
    payment_intent = _text(session, "payment_intent", PAYMENT_INTENT_LENGTH)
    if reference is None:
        return NOT_AN_ENTRY
    return services.payment_succeeded(reference, amount, currency, payment_intent)


def _session_pending(session: Payload, note: str) -> tuple[str, str]:
    reference = _text(session, "client_reference_id", REFERENCE_LENGTH)
    payment_intent = _text(session, "payment_intent", PAYMENT_INTENT_LENGTH)
    if reference is None:
        return NOT_AN_ENTRY
    return services.payment_pending(reference, payment_intent, note)


def on_checkout_completed(payload: Payload) -> tuple[str, str]:
    session = _stripe_object(payload)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _session_paid(session)
    # Delayed methods (bank debits): the money is not there yet.
    return _session_pending(session, "awaiting an asynchronous payment")


def on_async_payment_failed(payload: Payload) -> tuple[str, str]:
    return _session_pending(_stripe_object(payload), "the asynchronous payment failed")


def on_charge_refunded(payload: Payload) -> tuple[str, str]:
    charge = _stripe_object(payload)
    payment_intent = _required_text(charge, "payment_intent", PAYMENT_INTENT_LENGTH)
    if charge.get("refunded") is not True:
        return services.FLAGGED, f"partial refund of {_amount(charge, 'amount_refunded')} on {payment_intent}"
    return services.payment_refunded(payment_intent=payment_intent)


STRIPE_HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.async_payment_succeeded": lambda payload: _session_paid(_stripe_object(payload)),
    "checkout.session.async_payment_failed": on_async_payment_failed,
    "charge.refunded": on_charge_refunded,
}


# --- Standard Webhooks ------------------------------------------------------------


def verify_standard(body: bytes, headers: dict[str, str], secrets: list[str]) -> None:
    for secret in secrets:
        try:
            standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)
        except (standardwebhooks.WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
            continue  # the library raises ValueError/binascii.Error on a malformed signature header
        return
    raise InvalidSignature("no valid webhook-signature for any configured secret (or the timestamp is out of range)")


def _standard_data(payload: Payload) -> Payload:
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedPayload("data is not an object")
    return data


def on_standard_succeeded(payload: Payload) -> tuple[str, str]:
    data = _standard_data(payload)
    reference = _required_text(data, "reference", REFERENCE_LENGTH)
    return services.payment_succeeded(reference, _amount(data, "amount"), _currency(data))


def on_standard_refunded(payload: Payload) -> tuple[str, str]:
    return services.payment_refunded(reference=_required_text(_standard_data(payload), "reference", REFERENCE_LENGTH))


STANDARD_HANDLERS: dict[str, Handler] = {
    "payment.succeeded": on_standard_succeeded,
    "payment.refunded": on_standard_refunded,
}

STRIPE = Gateway(verify_stripe, lambda headers, payload: payload.get("id"), STRIPE_HANDLERS)
STANDARD = Gateway(verify_standard, lambda headers, payload: headers.get("webhook-id"), STANDARD_HANDLERS)


# --- the shared path -------------------------------------------------------


def _fields(provider: str, event_id: str, kind: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A delivery's columns, storable whatever it holds: the exact bytes in
    ``raw_body``; text (NUL and bytes that are not UTF-8 as U+FFFD) elsewhere."""
    return {
        "provider": provider,
        "event_id": storable(event_id)[:200],
        "type": storable(kind)[:100],
        "body": storable(body.decode("utf-8", errors="replace")),
        "raw_body": body,
        "headers": {name: storable(value) for name, value in headers.items()},
    }


def _store_genuine(fields: dict[str, Any], **state: Any) -> bool:
    """Store a genuine delivery: True when it claimed its event id, False
    when another delivery had and this one was stored as a duplicate."""
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(**fields, signature_valid=True, **state)
    except IntegrityError:
        PaymentEvent.objects.create(**fields, signature_valid=True, duplicate=True, outcome=Outcome.DUPLICATE)
        return False
    return True


def _store_malformed(provider: str, body: bytes, headers: dict[str, str], problem: str) -> JsonResponse:
    """A genuine delivery with no usable event id or type. Its id is a hash
    of its body (with a space, which no accepted id has), so a redelivery
    is a duplicate and it never collides with a real event."""
    note = f"malformed payload: {problem}"
    fields = _fields(provider, f"malformed {hashlib.sha256(body).hexdigest()}", "", body, headers)
    if _store_genuine(fields, outcome=Outcome.MALFORMED, error=note, processed_at=timezone.now()):
        return _reply(200, Outcome.MALFORMED, note)
    return _reply(200, Outcome.DUPLICATE, "this malformed delivery was already stored")


def _outcome(event: PaymentEvent, handlers: dict[str, Handler]) -> tuple[str, str]:
    handler = handlers.get(event.type)
    if handler is None:
        return Outcome.IGNORED, f"unhandled event type {event.type!r}"
    try:
        return handler(parse_payload(event.raw))
    except MalformedPayload as problem:
        return Outcome.MALFORMED, f"malformed payload: {problem}"


def process(event_pk: int, handlers: dict[str, Handler]) -> JsonResponse:
    """Process a stored delivery once, under its row lock (also used by the
    admin's reprocess action). A ``flagged`` outcome sends
    ``payments.signals.entry_flagged`` in the same transaction."""
    try:
        with transaction.atomic():
            event = PaymentEvent.objects.select_for_update().get(pk=event_pk)
            if event.outcome in FINAL_OUTCOMES:
                return _reply(200, "duplicate", f"event {event.event_id} was already {event.outcome}")
            with services.deciding() as decision:
                outcome, note = _outcome(event, handlers)
            event.outcome, event.error, event.processed_at = outcome, storable(note), timezone.now()
            event.save(update_fields=["outcome", "error", "processed_at"])
            if outcome == Outcome.FLAGGED:
                entry_flagged.send(sender=PaymentEvent, payment=event, entry=decision.entry, reason=event.error)
    except Exception:
        logger.exception("processing payment event %s failed", event_pk)
        PaymentEvent.objects.filter(pk=event_pk).update(
            outcome=Outcome.FAILED, error=storable(traceback.format_exc(limit=5))
        )
        return _reply(500, "failed", "processing failed; the error is stored and a retry will process it again")
    return _reply(200, event.outcome, event.error)


def receive(request: HttpRequest, provider: str, secrets: list[str], gateway: Gateway) -> JsonResponse:
    if not secrets:
        return _reply(404, "not_configured", f"no webhook secret is configured for {provider}")
    headers = {name.lower(): value for name, value in request.headers.items() if name.lower() in STORED_HEADERS}
    body = request.body
    try:
        gateway.verify(body, headers, secrets)
    except InvalidSignature as problem:
        PaymentEvent.objects.create(
            **_fields(provider, headers.get("webhook-id", ""), "", body, headers),
            signature_valid=False, outcome=Outcome.INVALID_SIGNATURE, error=str(problem),
        )  # fmt: skip
        return _reply(400, "invalid_signature", str(problem))
    try:
        payload = parse_payload(body)
        event_id, kind = _event_id(gateway.event_id(headers, payload)), _event_type(payload.get("type", ""))
    except MalformedPayload as problem:
        return _store_malformed(provider, body, headers, str(problem))
    _store_genuine(_fields(provider, event_id, kind, body, headers))
    canonical = PaymentEvent.objects.get(provider=provider, event_id=event_id, signature_valid=True, duplicate=False)
    return process(canonical.pk, gateway.handlers)


@csrf_exempt
@json_errors
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    return receive(request, "stripe", secrets_from("STRIPE_WEBHOOK_SECRET"), STRIPE)


@csrf_exempt
@json_errors
@require_POST
def payments_webhook(request: HttpRequest, provider: str) -> JsonResponse:
    if not PROVIDER_SLUG.match(provider) or provider == "stripe":
        return _reply(404, "unknown_provider", f"unknown provider {provider!r}")
    variable = f"PAYMENTS_{provider.upper().replace('-', '_')}_WEBHOOK_SECRET"
    return receive(request, provider, secrets_from(variable), STANDARD)


HANDLERS_BY_PROVIDER = {"stripe": STRIPE_HANDLERS}


def handlers_for(provider: str) -> dict[str, Handler]:
    return HANDLERS_BY_PROVIDER.get(provider, STANDARD_HANDLERS)
