"""Payment webhooks: Stripe's and Standard Webhooks' signatures, made with
the official packages' own helpers; bad, old and replayed deliveries;
concurrency; every processing outcome."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import standardwebhooks
import stripe
from django.contrib.auth import get_user_model
from django.test import Client

from games.models import Player
from payments import services as payments
from payments.models import PaymentEvent
from tests.conftest import race
from tournaments.models import Entry, Tournament
from tournaments.services import create_tournament, enter

pytestmark = pytest.mark.django_db(transaction=True)

STRIPE_SECRET = "whsec_test_stripe_secret"
OLD_STRIPE_SECRET = "whsec_previous_stripe_secret"
ACME_SECRET = "whsec_" + base64.b64encode(b"acme gateway shared secret!").decode()


@pytest.fixture(autouse=True)
def webhook_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", f"{STRIPE_SECRET}, {OLD_STRIPE_SECRET}")
    monkeypatch.setenv("PAYMENTS_ACME_WEBHOOK_SECRET", ACME_SECRET)


@pytest.fixture
def tournament() -> Tournament:
    return create_tournament("Cup", "tictactoe", {}, 500, "eur", 2, None)


@pytest.fixture
def entry(tournament: Tournament, alice: Player) -> Entry:
    return enter(tournament.pk, alice)


def checkout_event(entry: Entry, event_id: str = "evt_1", amount: int = 500, currency: str = "eur",
                   kind: str = "checkout.session.completed", payment_status: str = "paid") -> str:  # fmt: skip
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "client_reference_id": entry.client_reference_id,
        "amount_total": amount,
        "currency": currency,
        "payment_intent": f"pi_{entry.pk}",
        "payment_status": payment_status,
    }
    return json.dumps({"id": event_id, "object": "event", "type": kind, "data": {"object": session}})


def post_stripe(body: str, secret: str = STRIPE_SECRET, timestamp: int | None = None, header: str | None = None):
    signature = (
        header if header is not None else stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    )
    return Client().post("/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def standard_headers(body: str, msg_id: str, secret: str = ACME_SECRET, at: datetime | None = None) -> dict:
    at = at or datetime.now(UTC)
    signature = standardwebhooks.Webhook(secret).sign(msg_id, at, body)
    return {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
            "HTTP_WEBHOOK_SIGNATURE": signature}  # fmt: skip


def post_standard(body: str, msg_id: str, provider: str = "acme", **overrides: Any):
    headers = {**standard_headers(body, msg_id), **overrides}
    return Client().post(f"/webhooks/payments/{provider}", body, content_type="application/json", **headers)


def standard_payment(entry: Entry, kind: str = "payment.succeeded", amount: int = 500, currency: str = "eur") -> str:
    data = {"reference": entry.client_reference_id, "amount": amount, "currency": currency}
    return json.dumps({"type": kind, "timestamp": "2026-11-25T12:00:00Z", "data": data})


def status_of(entry: Entry) -> str:
    return Entry.objects.get(pk=entry.pk).status


# --- Standard Webhooks ---------------------------------------------------------


def test_the_specifications_test_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example from the Standard Webhooks specification, verified at the
    time it was signed."""
    secret, msg_id, timestamp = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    body, expected = '{"test": 2432232314}', "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert standardwebhooks.Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body) == expected

    class Then(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            return datetime.fromtimestamp(timestamp, UTC)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", Then)
    monkeypatch.setenv("PAYMENTS_SPEC_WEBHOOK_SECRET", secret)
    headers = {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": str(timestamp), "HTTP_WEBHOOK_SIGNATURE": expected}
    response = Client().post("/webhooks/payments/spec", body, content_type="application/json", **headers)
    assert response.status_code == 200  # verified; its type is unknown to us, so stored and ignored
    stored = PaymentEvent.objects.get(event_id=msg_id)
    assert (stored.signature_valid, stored.outcome) == (True, "ignored")


def test_standard_payment_confirms_and_refund_frees_the_place(entry: Entry) -> None:
    assert post_standard(standard_payment(entry), "msg_1").json()["outcome"] == "processed"
    assert status_of(entry) == "confirmed"
    assert post_standard(standard_payment(entry, "payment.refunded"), "msg_2").status_code == 200
    assert status_of(entry) == "refunded"


@pytest.mark.parametrize(
    "change",
    [
        {"HTTP_WEBHOOK_SIGNATURE": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},  # wrong signature
        {"HTTP_WEBHOOK_SIGNATURE": "v1nocomma"},  # malformed header
        {"HTTP_WEBHOOK_SIGNATURE": "v1,***"},  # not base64
        {"HTTP_WEBHOOK_TIMESTAMP": str(int(time.time()) - 600)},  # too old
        {"HTTP_WEBHOOK_TIMESTAMP": "soon"},
        {"HTTP_WEBHOOK_ID": "msg_other"},  # the id is signed too
    ],
)
def test_bad_standard_signatures_get_400_and_change_nothing(entry: Entry, change: dict) -> None:
    response = post_standard(standard_payment(entry), "msg_1", **change)
    assert response.status_code == 400
    assert status_of(entry) == "pending_payment"
    stored = PaymentEvent.objects.get()
    assert (stored.signature_valid, stored.outcome) == (False, "invalid_signature")


def test_a_forged_delivery_cannot_block_the_real_event_id(entry: Entry) -> None:
    body = standard_payment(entry)
    forged = post_standard(body, "msg_1", HTTP_WEBHOOK_SIGNATURE="v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    assert forged.status_code == 400
    assert post_standard(body, "msg_1").status_code == 200
    assert status_of(entry) == "confirmed"


def test_unknown_or_unconfigured_provider_is_404(entry: Entry) -> None:
    assert post_standard(standard_payment(entry), "msg_1", provider="nobody").status_code == 404
    assert post_standard(standard_payment(entry), "msg_1", provider="Bad!").status_code == 404
    assert not PaymentEvent.objects.exists()


# --- Stripe --------------------------------------------------------------------


def test_stripe_checkout_confirms_the_entry(entry: Entry) -> None:
    response = post_stripe(checkout_event(entry))
    assert response.status_code == 200 and response.json()["outcome"] == "processed"
    stored = Entry.objects.get(pk=entry.pk)
    assert (stored.status, stored.amount_paid, stored.payment_intent) == ("confirmed", 500, f"pi_{entry.pk}")
    event = PaymentEvent.objects.get()
    assert (event.provider, event.event_id, event.type, event.signature_valid) == (
        "stripe", "evt_1", "checkout.session.completed", True,
    )  # fmt: skip
    assert json.loads(event.body)["data"]["object"]["client_reference_id"] == entry.client_reference_id
    assert event.headers["stripe-signature"].startswith("t=")


def test_a_rotated_secret_still_verifies(entry: Entry) -> None:
    assert post_stripe(checkout_event(entry), secret=OLD_STRIPE_SECRET).status_code == 200
    assert status_of(entry) == "confirmed"


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "old", "missing", "garbage"],
)
def test_bad_stripe_signatures_get_400_and_change_nothing(entry: Entry, tamper: str) -> None:
    body = checkout_event(entry)
    if tamper == "body":
        signed = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
        response = post_stripe(body.replace('"amount_total": 500', '"amount_total": 5'), header=signed)
    elif tamper == "secret":
        response = post_stripe(body, secret="whsec_someone_else")
    elif tamper == "old":
        response = post_stripe(body, timestamp=int(time.time()) - 301)
    elif tamper == "missing":
        response = Client().post("/webhooks/stripe", body, content_type="application/json")
    else:
        response = post_stripe(body, header="t=abc,v1=zz")
    assert response.status_code == 400
    assert status_of(entry) == "pending_payment"
    assert PaymentEvent.objects.get().outcome == "invalid_signature"


def test_a_replayed_delivery_does_nothing_twice(entry: Entry, tournament: Tournament) -> None:
    body = checkout_event(entry)
    assert post_stripe(body).status_code == 200
    seq = Tournament.objects.get(pk=tournament.pk).seq
    again = post_stripe(body)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert Tournament.objects.get(pk=tournament.pk).seq == seq  # nothing was pushed again
    assert sorted(PaymentEvent.objects.values_list("duplicate", "outcome")) == [
        (False, "processed"),
        (True, "duplicate"),
    ]


def test_twenty_identical_deliveries_at_once_have_exactly_one_effect(entry: Entry, tournament: Tournament) -> None:
    body = checkout_event(entry)
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
    responses = race([lambda: post_stripe(body, header=header) for _ in range(20)])
    assert [r.status_code for r in responses] == [200] * 20
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 19 + ["processed"]
    assert PaymentEvent.objects.filter(duplicate=False).count() == 1
    assert PaymentEvent.objects.count() == 20
    assert status_of(entry) == "confirmed"
    assert Tournament.objects.get(pk=tournament.pk).seq == 2  # one for the entry, one for the payment


def test_concurrent_payments_never_confirm_more_than_capacity(tournament: Tournament, make_player: Any) -> None:
    entries = [enter(tournament.pk, make_player(f"p{i}")) for i in range(6)]
    responses = race([lambda e=e: post_stripe(checkout_event(e, f"evt_{e.pk}")) for e in entries])
    assert [r.status_code for r in responses] == [200] * 6
    statuses = sorted(status_of(e) for e in entries)
    assert statuses == ["confirmed"] * 2 + ["refund_due"] * 4
    assert tournament.capacity == 2


@pytest.mark.parametrize(
    "amount, currency, note",
    [(400, "eur", "paid 400 eur, the fee is 500 eur"), (500, "usd", "paid 500 usd, the fee is 500 eur")],
)
def test_wrong_amount_or_currency_is_flagged_not_confirmed(entry: Entry, amount: int, currency: str, note: str) -> None:
    response = post_stripe(checkout_event(entry, amount=amount, currency=currency))
    assert response.status_code == 200 and response.json()["outcome"] == "flagged"
    stored = Entry.objects.get(pk=entry.pk)
    assert (stored.status, stored.note) == ("payment_mismatch", note)


def test_unknown_entry_and_unknown_types_are_stored_and_acknowledged(entry: Entry) -> None:
    entry.client_reference_id = "entry_nobody"
    assert post_stripe(checkout_event(entry)).json()["outcome"] == "flagged"
    other = json.dumps({"id": "evt_2", "object": "event", "type": "customer.created", "data": {"object": {}}})
    response = post_stripe(other)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert PaymentEvent.objects.count() == 2


def test_payment_after_the_last_place_went_is_refund_due(
    tournament: Tournament, entry: Entry, make_player: Any
) -> None:
    late = enter(tournament.pk, make_player("late"))
    third = enter(tournament.pk, make_player("third"))
    post_stripe(checkout_event(entry, "evt_a"))
    post_stripe(checkout_event(late, "evt_b"))
    assert post_stripe(checkout_event(third, "evt_c")).json()["outcome"] == "flagged"
    assert status_of(third) == "refund_due"


def test_refund_frees_the_place_for_someone_else(tournament: Tournament, entry: Entry, make_player: Any) -> None:
    second, third = enter(tournament.pk, make_player("b")), enter(tournament.pk, make_player("c"))
    post_stripe(checkout_event(entry, "evt_a"))
    post_stripe(checkout_event(second, "evt_b"))
    refund = {"id": "ch_1", "object": "charge", "payment_intent": f"pi_{entry.pk}", "refunded": True}
    body = json.dumps({"id": "evt_r", "object": "event", "type": "charge.refunded", "data": {"object": refund}})
    assert post_stripe(body).json()["outcome"] == "processed"
    assert status_of(entry) == "refunded"
    post_stripe(checkout_event(third, "evt_c"))
    assert status_of(third) == "confirmed"


def test_partial_refund_is_flagged_for_staff(entry: Entry) -> None:
    post_stripe(checkout_event(entry))
    refund = {"id": "ch_1", "object": "charge", "payment_intent": f"pi_{entry.pk}", "refunded": False,
              "amount_refunded": 100}  # fmt: skip
    body = json.dumps({"id": "evt_r", "object": "event", "type": "charge.refunded", "data": {"object": refund}})
    assert post_stripe(body).json()["outcome"] == "flagged"
    assert status_of(entry) == "confirmed"


def test_asynchronous_payments(entry: Entry, make_player: Any, tournament: Tournament) -> None:
    assert post_stripe(checkout_event(entry, payment_status="unpaid")).json()["outcome"] == "processed"
    assert status_of(entry) == "pending_payment"
    succeeded = checkout_event(entry, "evt_2", kind="checkout.session.async_payment_succeeded")
    assert post_stripe(succeeded).json()["outcome"] == "processed"
    assert status_of(entry) == "confirmed"
    other = enter(tournament.pk, make_player("other"))
    failed = checkout_event(other, "evt_3", kind="checkout.session.async_payment_failed", payment_status="unpaid")
    post_stripe(failed)
    stored = Entry.objects.get(pk=other.pk)
    assert (stored.status, stored.note) == ("pending_payment", "the asynchronous payment failed")


def test_a_processing_failure_is_500_rolled_back_and_retried(
    entry: Entry, tournament: Tournament, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = payments.changed
    calls = {"n": 0}

    def flaky(t: Tournament) -> None:  # fails after the entry row was written
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database connection lost")
        real(t)

    monkeypatch.setattr(payments, "changed", flaky)
    body = checkout_event(entry)
    failed = post_stripe(body)
    assert failed.status_code == 500
    assert status_of(entry) == "pending_payment"  # rolled back, including the amount written before the failure
    assert Entry.objects.get(pk=entry.pk).amount_paid is None
    stored = PaymentEvent.objects.get()
    assert stored.outcome == "failed" and "database connection lost" in stored.error
    retried = post_stripe(body)  # the gateway's retry of the same event
    assert retried.status_code == 200 and retried.json()["outcome"] == "processed"
    assert status_of(entry) == "confirmed"


# --- malformed, forged and odd deliveries ---------------------------------------------


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("staff", "staff@example.com", "pw"))
    return client


def stripe_event(event_id: Any = "evt_m", kind: str = "checkout.session.completed", **data: Any) -> str:
    return json.dumps({"id": event_id, "type": kind, "data": data})


def checkout_with(entry: Entry, event_id: Any = "evt_m", **session: Any) -> str:
    """A paid checkout for ``entry`` with some of its session's fields changed."""
    event = json.loads(checkout_event(entry, event_id))
    event["data"]["object"].update(session)
    return json.dumps(event)


def assert_malformed(response: Any, entry: Entry, body: str | bytes) -> None:
    """Answered 200 (so the gateway stops retrying), stored for staff as
    malformed, and nothing happened to the entry."""
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "malformed"
    stored = PaymentEvent.objects.get()
    assert (stored.signature_valid, stored.duplicate, stored.outcome) == (True, False, "malformed")
    assert stored.error and stored.processed_at is not None
    assert stored.raw == (body.encode() if isinstance(body, str) else body)
    assert status_of(entry) == "pending_payment"


STRIPE_MALFORMED = {
    "a JSON list": lambda entry: "[1, 2]",
    "a JSON string": lambda entry: '"evt_1"',
    "5,000-deep JSON": lambda entry: "[" * 5000 + "]" * 5000,
    "not JSON": lambda entry: '{"id": "evt_1", \x00}',
    "data.object a string": lambda entry: stripe_event(object="cs_1"),
    "data.object a list": lambda entry: stripe_event(kind="charge.refunded", object=[1]),
    "no data.object": lambda entry: stripe_event(),
    "a null id": lambda entry: checkout_event(entry, event_id=None),
    "no id": lambda entry: json.dumps({k: v for k, v in json.loads(checkout_event(entry)).items() if k != "id"}),
    "an id that is a number": lambda entry: checkout_event(entry, event_id=7),
    "an id holding NUL": lambda entry: checkout_event(entry, event_id="evt_\x00"),
    "a type holding NUL": lambda entry: checkout_event(entry, kind="checkout.session.completed\x00"),
    "amount_total a string": lambda entry: checkout_with(entry, amount_total="500"),
    "amount_total a fraction": lambda entry: checkout_with(entry, amount_total=500.4),
    "amount_total a boolean": lambda entry: checkout_with(entry, amount_total=True),
    "amount_total beyond any column": lambda entry: checkout_with(entry, amount_total=2**40),
    "a currency that is no ISO code": lambda entry: checkout_with(entry, currency="euro"),
    "a reference holding NUL": lambda entry: checkout_with(entry, client_reference_id="entry_\x00"),
    "a reference that is a number": lambda entry: checkout_with(entry, client_reference_id=5),
    "a payment_intent too long to store": lambda entry: checkout_with(entry, payment_intent="pi_" + "x" * 200),
    "a payment_intent that is an object": lambda entry: checkout_with(entry, payment_intent={"id": "pi_1"}),
}


@pytest.mark.parametrize("make_body", STRIPE_MALFORMED.values(), ids=STRIPE_MALFORMED.keys())
def test_signed_but_malformed_stripe_events_are_stored_as_malformed_never_confirmed_or_retried(
    entry: Entry, make_body: Any
) -> None:
    body = make_body(entry)
    assert_malformed(post_stripe(body), entry, body)
    again = post_stripe(body)  # a retry, if the gateway made one: acknowledged, nothing done twice
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert status_of(entry) == "pending_payment"


STANDARD_MALFORMED = {
    "a JSON list": lambda entry: "[1, 2]",
    "5,000-deep JSON": lambda entry: '{"a": ' * 5000 + "1" + "}" * 5000,
    "not JSON": lambda entry: "{\x00}",
    "no data": lambda entry: json.dumps({"type": "payment.succeeded"}),
    "amount a string": lambda entry: standard_payment(entry).replace('"amount": 500', '"amount": "500"'),
    "amount a fraction": lambda entry: standard_payment(entry).replace('"amount": 500', '"amount": 500.4'),
    "amount beyond any column": lambda entry: standard_payment(entry).replace('"amount": 500', f'"amount": {2**40}'),
    "a reference holding NUL": lambda entry: standard_payment(entry).replace("entry_", "entry_\\u0000"),
}


@pytest.mark.parametrize("make_body", STANDARD_MALFORMED.values(), ids=STANDARD_MALFORMED.keys())
def test_signed_but_malformed_standard_events_are_stored_as_malformed(entry: Entry, make_body: Any) -> None:
    body = make_body(entry)
    assert_malformed(post_standard(body, "msg_m"), entry, body)


def test_events_without_an_id_never_collide_and_never_confirm(
    entry: Entry, tournament: Tournament, make_player: Any
) -> None:
    other = enter(tournament.pk, make_player("other"))
    answers = [post_stripe(checkout_event(e, event_id=None)).json()["outcome"] for e in (entry, other)]
    assert answers == ["malformed", "malformed"]  # neither is taken for a duplicate of the other
    stored = PaymentEvent.objects.all()
    assert len({event.event_id for event in stored}) == 2 and not any(event.duplicate for event in stored)
    assert (status_of(entry), status_of(other)) == ("pending_payment", "pending_payment")


def test_a_known_event_with_a_malformed_object_is_malformed_not_failed(entry: Entry) -> None:
    """Before, this raised inside processing: 500 "failed", retried forever."""
    body = json.dumps({"id": "evt_m", "type": "checkout.session.completed", "data": {"object": ["cs_1"]}})
    assert_malformed(post_stripe(body), entry, body)
    assert PaymentEvent.objects.get().event_id == "evt_m"  # a valid id is kept, so retries are duplicates


@pytest.mark.parametrize("ahead", [305, 3600, 10**9])  # whole seconds: 301 could round to 300
def test_stripe_deliveries_stamped_in_the_future_are_refused(entry: Entry, ahead: int) -> None:
    response = post_stripe(checkout_event(entry), timestamp=int(time.time()) + ahead)
    assert response.status_code == 400 and response.json()["outcome"] == "invalid_signature"
    assert "future" in response.json()["detail"]
    assert status_of(entry) == "pending_payment"
    stored = PaymentEvent.objects.get()
    assert (stored.signature_valid, stored.outcome) == (False, "invalid_signature")


def test_a_future_timestamp_cannot_hide_behind_a_second_t(entry: Entry) -> None:
    """The stripe package reads the last ``t`` of the header, keys unstripped:
    an earlier ``" t=0"`` must not be the one the future check reads."""
    body = checkout_event(entry)
    future = int(time.time()) + 10**7
    signed = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET, future)
    response = post_stripe(body, header=f" t=0,{signed}")
    assert response.status_code == 400 and "future" in response.json()["detail"]
    assert status_of(entry) == "pending_payment"


def test_a_stripe_clock_a_little_ahead_is_accepted(entry: Entry) -> None:
    assert post_stripe(checkout_event(entry), timestamp=int(time.time()) + 60).json()["outcome"] == "processed"
    assert status_of(entry) == "confirmed"


FORGED_BODIES = [
    b'{"id": "evt_1\x00", "type": "checkout.session.completed"}',
    b"\x00",
    b'{"note": "caf\xe9 \xff\xfe"}',  # not UTF-8
    b'{"id": "\xed\xa0\x80"}',  # a surrogate, encoded
]


@pytest.mark.parametrize("body", FORGED_BODIES)
@pytest.mark.parametrize("provider", ["stripe", "acme"])
def test_a_forged_delivery_is_stored_whatever_its_bytes(staff: Client, provider: str, body: bytes) -> None:
    path = "/webhooks/stripe" if provider == "stripe" else "/webhooks/payments/acme"
    headers = {"HTTP_STRIPE_SIGNATURE": "t=1,v1=00"} if provider == "stripe" else {
        "HTTP_WEBHOOK_ID": "msg_\x00", "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())),
        "HTTP_WEBHOOK_SIGNATURE": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}  # fmt: skip
    response = Client().post(path, body, content_type="application/json", **headers)
    assert response.status_code == 400 and response.json()["outcome"] == "invalid_signature"
    stored = PaymentEvent.objects.get()
    assert (stored.provider, stored.signature_valid, stored.outcome) == (provider, False, "invalid_signature")
    assert stored.raw == body  # byte for byte, as the gateway (or the forger) sent it
    page = staff.get(f"/admin/payments/paymentevent/{stored.pk}/change/")
    assert page.status_code == 200
    assert "\ufffd" in page.content.decode()  # what could not be shown as text is shown as the replacement mark


def test_the_admin_shows_a_deeply_nested_body(staff: Client, entry: Entry) -> None:
    body = "[" * 5000 + "]" * 5000
    post_stripe(body)
    page = staff.get(f"/admin/payments/paymentevent/{PaymentEvent.objects.get().pk}/change/")
    assert page.status_code == 200 and "[[[[" in page.content.decode()
