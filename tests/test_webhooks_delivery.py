"""Sending outgoing webhooks to real receivers on loopback: signatures,
retries, what each kind of answer does to a delivery and an endpoint, the
address guard at attempt time, https with certificates of a test CA, the
settings' checks, and real sender processes that are frozen, killed or run
side by side."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from channels.db import database_sync_to_async
from django.core.checks import run_checks
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from games import background
from tests import live
from tests.webhook_receivers import (
    Receiver,
    always,
    fail_first,
    gone,
    hang,
    held,
    held_first,
    huge,
    ok,
    receiver,
    redirect,
    retry_after,
    trickle,
)
from webhooks import delivery as claims
from webhooks import outbox
from webhooks.delivery import EXCERPT_CHARS, Outcome, claim, prune, record
from webhooks.models import Attempt, Delivery, Endpoint, EndpointSecret, Message, new_secret
from webhooks.sender import run_sender, send_due
from webhooks.signing import USER_AGENT, signature_headers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def webhook_settings(settings: Any) -> Any:
    """Loopback receivers allowed over http; short timeouts; a schedule whose
    second attempt is a minute away (tests that retry at once set their own)."""
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_RETRY_SCHEDULE = [0, 60, 60]
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2
    settings.WEBHOOKS_CLAIM_SECONDS = 10
    settings.WEBHOOKS_POLL_SECONDS = 0.05
    settings.WEBHOOKS_CONCURRENCY = 8
    settings.WEBHOOKS_CONCURRENCY_PER_ENDPOINT = 4
    return settings


def endpoint_for(hook: Receiver, **fields: Any) -> Endpoint:
    """An endpoint posting to ``hook``, with one secret, which ``hook`` verifies with."""
    endpoint = Endpoint.objects.create(url=fields.pop("url", hook.url), **fields)
    hook.secrets.append(endpoint.rotate_secret().secret)
    return endpoint


def emit(event_type: str = "match.started", data: dict[str, Any] | None = None) -> Message:
    with transaction.atomic():
        message = outbox.emit(event_type, data or {"id": 7})
    assert message is not None
    return message


def deliver(limit: int = 100) -> int:
    return asyncio.run(send_due(limit=limit))


def delivery_of(message: Message) -> Delivery:
    return Delivery.objects.get(message=message)


def attempts_of(message: Message) -> list[Attempt]:
    return list(Attempt.objects.filter(message=message).order_by("at", "pk"))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} did not happen within {timeout} s")


@contextmanager
def sender_running() -> Iterator[None]:
    """:func:`run_sender` on an event loop of its own thread, as a server process runs it."""
    started = threading.Event()
    control: dict[str, Any] = {}

    async def main() -> None:
        control["loop"], control["stop"] = asyncio.get_running_loop(), asyncio.Event()
        await run_sender(control["stop"], ready=started.set)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10), "the sender did not start"
    try:
        yield
    finally:
        control["loop"].call_soon_threadsafe(control["stop"].set)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the sender did not stop"


# --- signing ------------------------------------------------------------------------


def test_every_attempt_is_signed_for_each_live_secret_and_each_verifies_alone() -> None:
    with receiver() as hook:
        endpoint = endpoint_for(hook)
        old = hook.secrets[0]
        new = endpoint.rotate_secret(overlap_seconds=3600).secret
        hook.secrets.append(new)
        hook.secrets.append(new_secret())  # a secret the endpoint does not have
        message = emit()
        assert deliver() == 1
    [request] = hook.received()
    assert request.verified_by == {old: True, new: True, hook.secrets[2]: False}
    assert request.body == message.body.encode()
    assert request.webhook_id == message.id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["host"] == f"127.0.0.1:{hook.port}"
    assert request.type == "match.started"
    assert delivery_of(message).status == "succeeded"


def test_signature_headers_sign_the_attempt_time_in_utc_whatever_its_zone() -> None:
    secret = Endpoint.objects.create(url="https://example.com/hook").rotate_secret().secret
    moment = datetime.now(UTC).replace(microsecond=0)
    in_paris = moment.astimezone(timezone.get_fixed_timezone(120))
    as_int = signature_headers("msg_1", int(moment.timestamp()), '{"a":1}', [secret])
    assert signature_headers("msg_1", in_paris, '{"a":1}', [secret]) == as_int
    assert as_int["webhook-timestamp"] == str(int(moment.timestamp()))
    assert Webhook(secret).verify('{"a":1}', as_int) == {"a": 1}
    with pytest.raises(ValueError):
        signature_headers("msg_1", moment, "{}", [])


def test_the_request_goes_to_the_checked_address_with_the_hostname_as_host(webhook_settings: Any) -> None:
    """``localhost`` may resolve to ::1 first, where nothing listens: the
    sender tries the next checked address, and keeps ``Host`` on the name."""
    webhook_settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    with receiver() as hook:
        endpoint_for(hook, url=f"http://localhost:{hook.port}/hook?token=abc")
        emit()
        assert deliver() == 1
    [request] = hook.received()
    assert request.headers["host"] == f"localhost:{hook.port}"
    assert request.path == "/hook?token=abc"
    assert request.verified


# --- retries --------------------------------------------------------------------------


def test_a_failing_endpoint_is_retried_under_one_webhook_id_and_every_attempt_is_stored(
    webhook_settings: Any,
) -> None:
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = [0, 0, 0, 60]
    with receiver(fail_first(2, status=500, body=b"E" * 5000)) as hook:
        endpoint = endpoint_for(hook)
        message = emit()
        assert deliver(limit=1) == 1
        endpoint.refresh_from_db()
        assert endpoint.failing_since is not None and endpoint.enabled
        assert delivery_of(message).status == "pending"
        assert deliver() == 2
    assert hook.ids() == [message.id] * 3
    assert all(request.verified for request in hook.received())
    attempts = attempts_of(message)
    assert [attempt.status_code for attempt in attempts] == [500, 500, 200]
    assert [attempt.succeeded for attempt in attempts] == [False, False, True]
    assert attempts[0].response_excerpt == "E" * 1000
    assert attempts[2].response_excerpt == "ok"
    assert all(0 <= attempt.duration_ms < 2000 and not attempt.error for attempt in attempts)
    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert delivery.finished_at is not None
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_retries_are_spread_by_jitter_after_the_scheduled_delay(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = [0, 100]
    webhook_settings.WEBHOOKS_CONCURRENCY_PER_ENDPOINT = 20
    with receiver(always(500)) as hook:
        endpoint_for(hook)
        messages = [emit() for _ in range(12)]
        assert deliver() == 12
    delays = []
    for message in messages:
        [attempt] = attempts_of(message)
        delivery = delivery_of(message)
        assert delivery.status == "pending" and delivery.next_attempt_at is not None
        delays.append((delivery.next_attempt_at - attempt.at).total_seconds())
    assert all(100 <= delay <= 111 for delay in delays), delays
    assert len({round(delay, 3) for delay in delays}) > 1, "every retry at the same moment: no jitter"


def test_a_delivery_whose_schedule_runs_out_fails(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = [0, 0, 0]
    with receiver(always(500)) as hook:
        endpoint = endpoint_for(hook)
        message = emit()
        assert deliver() == 3
        assert deliver() == 0
    assert hook.ids() == [message.id] * 3
    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.finished_at is not None
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None


@pytest.mark.parametrize(
    ("status", "header", "schedule_delay", "expected"),
    [
        (429, "120", 5, 120),  # Retry-After longer than the schedule: honoured
        (503, "date+300", 5, 300),  # as an HTTP date
        (429, "1", 600, 600),  # shorter than the schedule: the schedule wins
        (429, "999999", 5, 24 * 3600),  # capped at a day
        (500, "120", 5, 5),  # only 429 and 503 ask to wait
        (503, "\u00b2", 5, 5),  # a digit to str.isdigit, not a number: unreadable, the schedule
        (503, "Mon, 01 Jan 2024 00:00:00 +99999999999999999999", 5, 5),  # a date out of range: the schedule
    ],
)
def test_retry_after_sets_the_earliest_next_attempt(
    webhook_settings: Any, status: int, header: str, schedule_delay: int, expected: int
) -> None:
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = [0, schedule_delay]
    if header.startswith("date+"):
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=int(header[5:])), usegmt=True)
    with receiver(retry_after(status, header)) as hook:
        endpoint_for(hook)
        message = emit()
        assert deliver() == 1
        assert deliver() == 0
    [attempt] = attempts_of(message)
    assert attempt.status_code == status
    delivery = delivery_of(message)
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    delay = (delivery.next_attempt_at - attempt.at).total_seconds()
    assert expected - 2 <= delay <= expected * 1.1 + 1, delay


# --- answers that end a delivery or an endpoint -----------------------------------------


def test_410_gone_disables_the_endpoint_at_once_and_flags_it(webhook_settings: Any, caplog: Any) -> None:
    webhook_settings.WEBHOOKS_CONCURRENCY_PER_ENDPOINT = 1
    with receiver(gone()) as hook, caplog.at_level(logging.WARNING, logger="webhooks.delivery"):
        endpoint = endpoint_for(hook)
        first, second = emit(), emit()
        assert deliver() == 1
    assert hook.ids() == [first.id]
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.needs_attention
    assert "410" in endpoint.disabled_reason
    assert delivery_of(first).status == "failed"
    assert delivery_of(second).status == "pending"
    assert "disabled" in caplog.text


def test_an_endpoint_failing_past_the_limit_is_disabled_and_flagged(webhook_settings: Any, caplog: Any) -> None:
    webhook_settings.WEBHOOKS_DISABLE_AFTER_SECONDS = 3600
    with (
        receiver(always(500)) as long_failing,
        receiver(always(500)) as recently_failing,
        caplog.at_level(logging.WARNING, logger="webhooks.delivery"),
    ):
        long_endpoint, recent_endpoint = endpoint_for(long_failing), endpoint_for(recently_failing)
        now = timezone.now()
        Endpoint.objects.filter(pk=long_endpoint.pk).update(failing_since=now - timedelta(hours=2))
        Endpoint.objects.filter(pk=recent_endpoint.pk).update(failing_since=now - timedelta(minutes=10))
        emit()
        assert deliver() == 2
    long_endpoint.refresh_from_db()
    recent_endpoint.refresh_from_db()
    assert not long_endpoint.enabled and long_endpoint.needs_attention
    assert long_endpoint.disabled_reason == "every attempt failed for 3600 seconds"
    assert recent_endpoint.enabled and not recent_endpoint.needs_attention
    assert f"webhook endpoint {long_endpoint.pk} disabled" in caplog.text


def test_a_timeout_is_recorded_as_an_error_and_retried(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = [0, 0, 60]
    with receiver(hang(5)) as hook:
        endpoint_for(hook)
        message = emit()
        started = time.monotonic()
        assert deliver() == 2
        took = time.monotonic() - started
    assert took < 2, took
    assert hook.ids() == [message.id] * 2
    attempts = attempts_of(message)
    assert [(attempt.status_code, attempt.error) for attempt in attempts] == [(None, "timed out after 0.3 s")] * 2
    assert all(250 <= attempt.duration_ms < 1500 for attempt in attempts)
    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts) == ("pending", 2)


def test_a_receiver_trickling_its_head_cannot_hold_an_attempt_past_the_timeout(webhook_settings: Any) -> None:
    """A byte every 0.5 s keeps a per-read timeout of 1 s from ever firing;
    the attempt's own deadline ends it."""
    webhook_settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    with receiver(trickle("head", interval=0.5)) as hook:
        endpoint_for(hook)
        message = emit()
        started = time.monotonic()
        assert deliver() == 1
        took = time.monotonic() - started
    assert took < 2.5, took
    [attempt] = attempts_of(message)
    assert (attempt.status_code, attempt.error) == (None, "timed out after 1 s")
    assert 900 <= attempt.duration_ms < 2000, attempt.duration_ms
    assert delivery_of(message).status == "pending"


@pytest.mark.parametrize(
    ("status", "interval", "outcome"),
    [
        (200, 0.5, "succeeded"),  # a slow body: a 2xx is a success whatever its body does
        (503, 30.0, "pending"),  # a body that never comes: the status still counts
    ],
)
def test_an_answer_whose_body_runs_out_of_time_keeps_its_status(
    webhook_settings: Any, status: int, interval: float, outcome: str
) -> None:
    webhook_settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    body = b"received, slowly"
    with receiver(trickle("body", interval=interval, status=status, body=body)) as hook:
        endpoint_for(hook)
        message = emit()
        assert deliver() == 1
    [attempt] = attempts_of(message)
    assert (attempt.status_code, attempt.succeeded) == (status, status == 200)
    assert attempt.error == "the body timed out after 1 s"
    assert body.decode().startswith(attempt.response_excerpt)
    assert bool(attempt.response_excerpt) == (interval < 1), "the bytes that arrived in time are kept"
    assert attempt.duration_ms < 2000, attempt.duration_ms
    assert delivery_of(message).status == outcome
    assert hook.ids() == [message.id]


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_is_a_failure_and_is_not_followed(status: int) -> None:
    with receiver() as target, receiver() as hook:
        hook.behaviour = redirect(target.url, status)
        endpoint_for(hook)
        message = emit()
        assert deliver() == 1
    assert hook.ids() == [message.id]
    assert target.received() == []
    [attempt] = attempts_of(message)
    assert (attempt.status_code, attempt.succeeded) == (status, False)
    assert delivery_of(message).status == "pending"


def test_a_huge_answer_is_not_read_beyond_its_excerpt() -> None:
    with receiver(huge(20_000_000)) as hook:
        endpoint_for(hook)
        message = emit()
        started = time.monotonic()
        assert deliver() == 1
        took = time.monotonic() - started
    [attempt] = attempts_of(message)
    assert attempt.status_code == 500
    assert attempt.response_excerpt == "x" * EXCERPT_CHARS == "x" * 1000
    assert took < 1.5, took


def test_the_excerpt_is_the_first_bytes_of_the_body_without_a_cut_character() -> None:
    body = ("a" + "\u00e9" * 600).encode()  # the 1000th byte is the first half of an "é"
    with receiver(always(500, body)) as hook:
        endpoint_for(hook)
        message = emit()
        assert deliver() == 1
    [attempt] = attempts_of(message)
    assert attempt.response_excerpt == "a" + "\u00e9" * 499


# --- the address guard at attempt time -------------------------------------------------


def test_an_endpoint_on_a_refused_address_gets_a_failed_attempt_and_nothing_is_sent(webhook_settings: Any) -> None:
    with receiver() as hook:
        endpoint_for(hook)  # saved while loopback was allowed
        webhook_settings.WEBHOOKS_ALLOWED_NETWORKS = []
        message = emit()
        assert deliver() == 1
    assert hook.received() == []
    [attempt] = attempts_of(message)
    assert attempt.status_code is None and not attempt.succeeded
    assert attempt.error.startswith("refused address: the host '127.0.0.1' resolves to 127.0.0.1")
    assert delivery_of(message).status == "pending"


# --- https --------------------------------------------------------------------------------


def tls_for(authority: trustme.CA, name: str) -> ssl.SSLContext:
    """A server's TLS context with a certificate for ``name`` issued by ``authority``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert(name).configure_cert(context)
    return context


@pytest.fixture
def authority(webhook_settings: Any, tmp_path: Path) -> trustme.CA:
    """A test CA, which the sender trusts through WEBHOOKS_CA_BUNDLE; https
    only, to ``localhost`` (which may resolve to both loopback addresses)."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    webhook_settings.WEBHOOKS_CA_BUNDLE = str(bundle)
    webhook_settings.WEBHOOKS_ALLOW_HTTP = False
    webhook_settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    return authority


def test_an_https_endpoint_is_verified_by_name_and_reached_at_the_checked_address(authority: trustme.CA) -> None:
    with receiver(tls=tls_for(authority, "localhost")) as hook:
        endpoint_for(hook)
        message = emit()
        assert deliver() == 1
    [request] = hook.received()
    assert request.verified and request.webhook_id == message.id
    assert request.headers["host"] == f"localhost:{hook.port}"
    assert request.local_address == "127.0.0.1"
    assert hook.server_names == ["localhost"], "the TLS handshake did not ask for the endpoint's hostname"
    [attempt] = attempts_of(message)
    assert (attempt.status_code, attempt.error) == (200, "")
    assert delivery_of(message).status == "succeeded"


@pytest.mark.parametrize(
    ("name", "trusted", "reason"),
    [
        ("other.example", True, "Hostname mismatch, certificate is not valid for 'localhost'"),
        ("localhost", False, "unable to get local issuer certificate"),  # the default trust store
    ],
)
def test_an_https_endpoint_whose_certificate_is_refused_gets_no_request(
    authority: trustme.CA, webhook_settings: Any, name: str, trusted: bool, reason: str
) -> None:
    if not trusted:
        webhook_settings.WEBHOOKS_CA_BUNDLE = ""
    with receiver(tls=tls_for(authority, name)) as hook:
        endpoint_for(hook)
        message = emit()
        assert deliver() == 1
    assert hook.server_names == ["localhost"], "the sender never reached the receiver's TLS handshake"
    assert hook.received() == []
    [attempt] = attempts_of(message)
    assert attempt.status_code is None and not attempt.succeeded
    assert attempt.error.startswith("certificate refused: ") and reason in attempt.error, attempt.error
    assert delivery_of(message).status == "pending"


# --- the outbox --------------------------------------------------------------------------


def test_a_rolled_back_emit_sends_nothing() -> None:
    with receiver() as hook:
        endpoint_for(hook)
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.emit("match.finished", {"id": 1})
            raise RuntimeError("the move failed")
        assert Message.objects.count() == 0
        assert deliver() == 0
        committed = emit("match.finished", {"id": 2})
        assert deliver() == 1
    assert hook.ids() == [committed.id]


# --- claims -------------------------------------------------------------------------------


def test_claims_respect_each_endpoint_in_flight_limit(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_CONCURRENCY_PER_ENDPOINT = 3
    busy = Endpoint.objects.create(url="http://127.0.0.1:9/busy")
    quiet = Endpoint.objects.create(url="http://127.0.0.1:9/quiet")
    for endpoint in (busy, quiet):
        endpoint.rotate_secret()
    for _ in range(5):
        emit_to([busy])
    emit_to([quiet])
    first = claim("sender-a", 100)
    assert sorted(item.endpoint_id for item in first) == [busy.pk] * 3 + [quiet.pk]
    assert claim("sender-b", 100) == []
    item = next(item for item in first if item.endpoint_id == busy.pk)
    assert item.url == busy.url and item.secrets == busy.signing_secrets()
    record(item, Outcome(at=timezone.now(), duration_ms=3, status_code=200))
    [next_one] = claim("sender-b", 100)
    assert next_one.endpoint_id == busy.pk and next_one.claimed_by == "sender-b"


def test_a_sender_claiming_for_one_endpoint_leaves_the_others_to_another_sender() -> None:
    """Sender A, in the middle of its claim, has chosen one delivery (its
    limit) and holds its transaction open: sender B claims the other
    endpoint's delivery meanwhile instead of finding every endpoint locked."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's write lock lets one claimer at a time in, whatever it locks")
    first = Endpoint.objects.create(url="http://127.0.0.1:9/first")
    second = Endpoint.objects.create(url="http://127.0.0.1:9/second")
    for endpoint in (first, second):
        endpoint.rotate_secret()
    for_first, for_second = emit_to([first]), emit_to([second])
    chosen_by_a: list[int] = []
    choosing, done = threading.Event(), threading.Event()

    def sender_a() -> None:
        try:
            with transaction.atomic():
                chosen_by_a.extend(claims._choose(timezone.now(), 1, 1)[0])
                choosing.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=sender_a)
    thread.start()
    try:
        assert choosing.wait(10)
        claimed_by_b = claim("sender-b", 10)
    finally:
        done.set()
        thread.join(10)
    assert chosen_by_a == [delivery_of(for_first).pk]
    assert [(item.endpoint_id, item.message_id) for item in claimed_by_b] == [(second.pk, for_second.id)]


def emit_to(endpoints: list[Endpoint]) -> Message:
    with transaction.atomic():
        message = outbox.emit("match.started", {"id": 1}, endpoints=endpoints)
    assert message is not None
    return message


def test_a_sender_whose_claim_was_taken_over_does_not_overwrite_the_delivery(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_CLAIM_SECONDS = 0.2
    endpoint = Endpoint.objects.create(url="http://127.0.0.1:9/hook")
    endpoint.rotate_secret()
    message = emit()
    [stale] = claim("sender-a", 10)
    assert claim("sender-b", 10) == []
    time.sleep(0.25)
    [current] = claim("sender-b", 10)
    record(stale, Outcome(at=timezone.now(), duration_ms=1, status_code=200))
    delivery = delivery_of(message)
    assert (delivery.status, delivery.claimed_by, delivery.attempts) == ("pending", "sender-b", 0)
    record(current, Outcome(at=timezone.now(), duration_ms=1, status_code=500))
    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert len(attempts_of(message)) == 2


def test_old_messages_are_pruned_with_their_deliveries_and_attempts(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_RETENTION_DAYS = 30
    with receiver() as hook:
        endpoint_for(hook)
        old, in_flight, recent = emit(), emit(), emit()
        assert deliver() == 3
    long_ago = timezone.now() - timedelta(days=31)
    Message.objects.filter(pk__in=[old.pk, in_flight.pk]).update(created_at=long_ago)
    Delivery.objects.filter(message=in_flight).update(
        status="pending", claimed_by="someone", claimed_until=timezone.now() + timedelta(seconds=30)
    )
    assert prune() == 1
    assert set(Message.objects.values_list("pk", flat=True)) == {in_flight.pk, recent.pk}
    assert not Delivery.objects.filter(message_id=old.pk).exists()
    assert not Attempt.objects.filter(message_id=old.pk).exists()
    assert Attempt.objects.filter(message_id=recent.pk).count() == 1


def test_pruning_deletes_secrets_that_stopped_signing_over_a_day_ago() -> None:
    endpoint = Endpoint.objects.create(url="http://127.0.0.1:9/hook")
    now = timezone.now()
    expiries = {
        "long_gone": now - timedelta(days=1, minutes=1),
        "just_expired": now - timedelta(hours=23),
        "rotating_out": now + timedelta(hours=1),
        "current": None,
    }
    secrets = {name: EndpointSecret.objects.create(endpoint=endpoint, expires_at=at) for name, at in expiries.items()}
    prune(now)
    kept = set(EndpointSecret.objects.values_list("pk", flat=True))
    assert kept == {secrets[name].pk for name in ("just_expired", "rotating_out", "current")}


# --- the sender loop ----------------------------------------------------------------------


def test_the_sender_loop_wakes_on_commit_not_on_its_poll(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_POLL_SECONDS = 30
    with receiver() as hook:
        endpoint_for(hook)
        with sender_running():
            time.sleep(0.1)  # the sender is asleep until its next poll
            message = emit()
            took = hook.wait_for(1, timeout=3)
            wait_until(lambda: delivery_of(message).status == "succeeded", 3, "recording the attempt")
    assert took < 1, took
    assert hook.ids() == [message.id]


def test_a_slow_endpoint_does_not_delay_another_endpoints_deliveries(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_CONCURRENCY_PER_ENDPOINT = 2
    webhook_settings.WEBHOOKS_TIMEOUT_SECONDS = 10
    release = threading.Event()
    with receiver(held(release)) as slow, receiver() as fast:
        endpoint_for(slow)
        endpoint_for(fast)
        try:
            with sender_running():
                for _ in range(6):
                    emit()
                fast.wait_for(6, timeout=3)
                slow.wait_for(2, timeout=3)
                later = emit()
                took = fast.wait_for(7, timeout=3)
                assert took < 1, took
                assert len(slow.received()) == 2, "more in flight to one endpoint than its limit"
                release.set()
        finally:
            release.set()
    assert fast.ids()[-1] == later.id
    assert len(set(fast.ids())) == 7


def test_endpoints_that_are_down_leave_half_the_slots_to_healthy_ones(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_CONCURRENCY = 4  # two slots at most for failing endpoints
    webhook_settings.WEBHOOKS_TIMEOUT_SECONDS = 10
    release = threading.Event()
    with receiver(held(release)) as down, receiver() as healthy:
        for _ in range(4):  # four endpoints failing for a while, each with a backlog older than anything new
            endpoint_for(down, failing_since=timezone.now() - timedelta(hours=1))
        for _ in range(3):
            emit()
        endpoint_for(healthy)
        try:
            with sender_running():
                down.wait_for(2, timeout=3)
                fresh = emit()
                healthy.wait_for(1, timeout=3)  # while every attempt to the failing ones still hangs
                assert len(down.received()) == 2, "failing endpoints took more than half the slots"
                release.set()
        finally:
            release.set()
    assert healthy.ids() == [fresh.id]


def test_a_stopping_sender_lets_its_attempt_in_flight_finish(webhook_settings: Any) -> None:
    webhook_settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    with receiver(hang(5)) as hook:
        endpoint_for(hook)
        with sender_running():
            message = emit()
            hook.wait_for(1, timeout=3)
            stopping = time.monotonic()
        took = time.monotonic() - stopping
    assert took < 2, took
    [attempt] = attempts_of(message)
    assert attempt.error == "timed out after 0.5 s"
    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("pending", 1, None)


async def test_a_server_process_runs_the_sender_in_process_when_configured(webhook_settings: Any) -> None:
    from channels.testing import HttpCommunicator

    from gameproject.asgi import application
    from games import background

    webhook_settings.WEBHOOKS_IN_PROCESS = True
    with receiver() as hook:
        await database_sync_to_async(endpoint_for)(hook)
        request = HttpCommunicator(application, "GET", "/api/games", headers=[(b"host", b"localhost")])
        try:
            assert (await request.get_response())["status"] == 200
            message = await database_sync_to_async(emit)()
            for _ in range(100):
                if hook.received():
                    break
                await asyncio.sleep(0.02)
        finally:
            await background.stop()
    assert hook.ids() == [message.id]


# --- registered background loops ------------------------------------------------------------


def raising_once(runs: list[str]) -> background.LoopFactory:
    """A registered loop whose first run raises; later runs last until stopped."""

    async def loop(stop: asyncio.Event | None) -> None:
        runs.append("run")
        if len(runs) == 1:
            raise RuntimeError("the first run breaks")
        await (stop or asyncio.Event()).wait()

    return loop


@pytest.fixture
def flaky_loop(monkeypatch: Any) -> list[str]:
    """The only registered loop is one that raises on its first run; returns its runs."""
    runs: list[str] = []
    monkeypatch.setattr(background, "RESTART_PAUSE_SECONDS", 0.05)
    monkeypatch.setattr(background, "_beside", {})
    background.run_beside("flaky loop", raising_once(runs), lambda: True)
    return runs


async def wait_for_runs(runs: list[str], count: int) -> None:
    for _ in range(250):
        if len(runs) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(runs)} runs, not {count}")


async def test_the_worker_restarts_a_registered_loop_that_raised(flaky_loop: list[str], caplog: Any) -> None:
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="games.background"):
        worker = asyncio.create_task(background.run_worker(0.05, stop))
        try:
            await wait_for_runs(flaky_loop, 2)
            assert not worker.done(), "the worker ended"
        finally:
            stop.set()
            await asyncio.wait_for(worker, 5)
    assert "the flaky loop failed; starting it again in 0.05 s" in caplog.text
    assert "RuntimeError: the first run breaks" in caplog.text


async def test_a_server_process_restarts_a_registered_loop_that_raised(flaky_loop: list[str]) -> None:
    background.ensure_started()
    try:
        await wait_for_runs(flaky_loop, 2)
    finally:
        await background.stop()
    assert flaky_loop == ["run", "run"]


# --- settings ---------------------------------------------------------------------------------


def webhook_check_errors() -> list[str]:
    return sorted(message.id for message in run_checks() if (message.id or "").startswith("webhooks."))


def test_system_checks_refuse_settings_that_would_send_twice_never_retry_or_trust_nothing(
    webhook_settings: Any, tmp_path: Path
) -> None:
    assert webhook_check_errors() == []
    webhook_settings.WEBHOOKS_CLAIM_SECONDS = webhook_settings.WEBHOOKS_TIMEOUT_SECONDS
    assert webhook_check_errors() == ["webhooks.E001"]
    webhook_settings.WEBHOOKS_CLAIM_SECONDS = 10
    for schedule in ([], [0, -5, 60]):
        webhook_settings.WEBHOOKS_RETRY_SCHEDULE = schedule
        assert webhook_check_errors() == ["webhooks.E002"]
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = [0]
    webhook_settings.WEBHOOKS_CA_BUNDLE = str(tmp_path / "missing.pem")
    assert webhook_check_errors() == ["webhooks.E003"]
    (tmp_path / "missing.pem").write_text(trustme.CA().cert_pem.bytes().decode())
    assert webhook_check_errors() == []


def test_the_shipped_defaults_are_the_issues(monkeypatch: Any) -> None:
    """The project's settings read afresh with no WEBHOOKS_* in the environment
    (the test settings and the fixture override some)."""
    for name in list(os.environ):
        if name.startswith("WEBHOOKS_"):
            monkeypatch.delenv(name)
    spec = importlib.util.spec_from_file_location("fresh_settings", live.ROOT / "gameproject" / "settings.py")
    assert spec is not None and spec.loader is not None
    shipped = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shipped)
    assert shipped.WEBHOOKS_RETRY_SCHEDULE == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert shipped.WEBHOOKS_TIMEOUT_SECONDS == 15
    assert shipped.WEBHOOKS_DISABLE_AFTER_SECONDS == 5 * 24 * 3600
    assert shipped.WEBHOOKS_CLAIM_SECONDS > shipped.WEBHOOKS_TIMEOUT_SECONDS
    assert shipped.WEBHOOKS_CA_BUNDLE == ""


# --- real sender processes ------------------------------------------------------------------


def sender_environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gameproject.settings",
        "DATABASE_URL": live.test_database_url(),
        "SECRET_KEY": "live-test-secret",
        "WEBHOOKS_ALLOWED_NETWORKS": "127.0.0.0/8",
        "WEBHOOKS_ALLOW_HTTP": "1",
        "WEBHOOKS_TIMEOUT_SECONDS": "5",
        "WEBHOOKS_CLAIM_SECONDS": "10",
        "WEBHOOKS_POLL_SECONDS": "0.05",
        "WEBHOOKS_RETRY_SCHEDULE": "0,60",
        **extra,
    }


@contextmanager
def senders(logs: Path, count: int, **env: str) -> Iterator[list[subprocess.Popen]]:
    """``count`` ``manage.py sendwebhooks`` processes on the test database,
    each ready; stopped (SIGTERM, then SIGKILL) when the block ends."""
    environment = sender_environment(**env)
    processes: list[subprocess.Popen] = []
    try:
        started = [start_sender(logs, environment) for _ in range(count)]
        processes.extend(process for process, _ in started)
        for process, log in started:
            wait_ready(process, log)
        yield processes
    finally:
        live.stop(processes)


def start_sender(logs: Path, environment: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    path = logs / f"sender-{len(list(logs.glob('sender-*.log')))}.log"
    log = open(path, "w")  # noqa: SIM115 (closed with the process)
    command = [sys.executable, "manage.py", "sendwebhooks"]
    return subprocess.Popen(command, cwd=live.ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT), path


def wait_ready(process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "webhook sender: ready" in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"the sender exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(f"the sender was not ready in {timeout} s:\n{log.read_text()}")


def test_killing_the_sender_mid_request_loses_nothing(tmp_path: Path) -> None:
    release = threading.Event()
    with receiver(held_first(release)) as hook:
        endpoint_for(hook)
        try:
            with senders(tmp_path, 1, WEBHOOKS_CLAIM_SECONDS="1.5", WEBHOOKS_TIMEOUT_SECONDS="1") as [first]:
                message = emit()
                hook.wait_for(1, timeout=10)
                os.kill(first.pid, signal.SIGKILL)
                first.wait(timeout=5)
                release.set()
                delivery = delivery_of(message)
                assert (delivery.status, delivery.attempts) == ("pending", 0), "the attempt was recorded"
                assert attempts_of(message) == []
        finally:
            release.set()
        with senders(tmp_path, 1, WEBHOOKS_CLAIM_SECONDS="1.5", WEBHOOKS_TIMEOUT_SECONDS="1"):
            hook.wait_for(2, timeout=10)
            wait_until(lambda: delivery_of(message).status == "succeeded", 10, "the delivery succeeding")
    assert hook.ids() == [message.id, message.id]
    assert all(request.verified for request in hook.received())
    [attempt] = attempts_of(message)
    assert attempt.status_code == 200


def test_a_sender_frozen_and_killed_between_commit_and_send_loses_nothing(tmp_path: Path) -> None:
    """The only sender is frozen (SIGSTOP) when the message commits, then
    killed: the next sender to start sends it, once."""
    with receiver() as hook:
        endpoint_for(hook)
        with senders(tmp_path, 1, WEBHOOKS_POLL_SECONDS="30") as [first]:  # asleep, not mid-query, when frozen
            os.kill(first.pid, signal.SIGSTOP)
            try:
                message = emit()
                time.sleep(0.2)
            finally:
                os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=5)
        assert hook.received() == []
        with senders(tmp_path, 1):
            hook.wait_for(1, timeout=10)
            wait_until(lambda: delivery_of(message).status == "succeeded", 10, "the delivery succeeding")
            time.sleep(0.3)  # a second send would arrive now
    assert hook.ids() == [message.id]
    assert hook.received()[0].verified
    [attempt] = attempts_of(message)
    assert attempt.status_code == 200


def test_two_senders_at_once_send_each_message_once(tmp_path: Path) -> None:
    with receiver(ok(delay=0.01)) as hook:
        endpoint_for(hook)
        with senders(tmp_path, 2, WEBHOOKS_CONCURRENCY="8", WEBHOOKS_CONCURRENCY_PER_ENDPOINT="8") as processes:
            messages = [emit(data={"n": n}) for n in range(60)]
            hook.wait_for(60, timeout=30)
            time.sleep(0.3)  # a duplicate would arrive now
            wait_until(
                lambda: Delivery.objects.filter(status="succeeded").count() == 60, 10, "every delivery succeeding"
            )
    counts = hook.counts()
    assert set(counts) == {message.id for message in messages}
    assert set(counts.values()) == {1}
    assert Attempt.objects.count() == 60
    senders_used = {sender.split(":")[1] for sender in Delivery.objects.values_list("claimed_by", flat=True)}
    assert senders_used == {str(process.pid) for process in processes}, "one sender did all the work"


def test_a_sender_process_on_postgresql_wakes_on_notify(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL has LISTEN/NOTIFY; on SQLite senders in other processes poll")
    with receiver() as hook:
        endpoint_for(hook)
        with senders(tmp_path, 1, WEBHOOKS_POLL_SECONDS="30"):
            time.sleep(0.2)
            message = emit()
            took = hook.wait_for(1, timeout=5)
    assert took < 1, took
    assert hook.ids() == [message.id]


def test_the_worker_runs_the_sender(tmp_path: Path) -> None:
    with receiver() as hook:
        endpoint_for(hook)
        message = emit()
        with live.running_processes(tmp_path, servers=0, worker=True, env=sender_environment()):
            hook.wait_for(1, timeout=20)
            wait_until(lambda: delivery_of(message).status == "succeeded", 10, "the delivery succeeding")
    assert hook.ids() == [message.id]
    assert "also running the webhook sender" in (tmp_path / "worker.log").read_text()
