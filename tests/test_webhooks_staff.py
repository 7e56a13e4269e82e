"""Staff manage outgoing webhook endpoints through the staff API and the
admin: URLs are checked (https, the SSRF guard), secrets are generated and
rotated with an overlap, test events, resends and replays schedule
deliveries, and only staff may do any of it."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client, override_settings
from django.utils import timezone

from games.models import Player
from tests.webhook_receivers import receiver
from webhooks import staff as operations
from webhooks.delivery import Outcome, claim, record
from webhooks.events import SUBSCRIBABLE
from webhooks.models import Attempt, Delivery, Endpoint, EndpointSecret, Message
from webhooks.outbox import emit
from webhooks.sender import send_due

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = "https://93.184.216.34/hooks"  # a public address: no DNS needed
OTHER_PUBLIC = "https://8.8.8.8/events"
ENDPOINTS = "/api/webhooks/endpoints"


def api(method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    client = Client()
    if method == "get":
        return client.get(path, body or {}, **headers)
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(path, data, content_type="application/json", **headers)


def create(token: str, url: str = PUBLIC, **fields: Any) -> dict[str, Any]:
    response = api("post", ENDPOINTS, token, {"url": url, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def due(delivery: Delivery) -> bool:
    delivery.refresh_from_db()
    return delivery.status == "pending" and delivery.attempts == 0 and delivery.next_attempt_at <= timezone.now()


def emitted(event_type: str, endpoints: list[Endpoint] | None = None, **data: Any) -> Message:
    with transaction.atomic():
        message = emit(event_type, data or {"id": 1}, endpoints=endpoints)
    assert message is not None
    return message


def finish(message: Message, endpoint: Endpoint, status: str) -> Delivery:
    """The delivery as a sender leaves it after its attempts."""
    delivery = Delivery.objects.get(message=message, endpoint=endpoint)
    delivery.status, delivery.attempts, delivery.finished_at = status, 3, timezone.now()
    delivery.save()
    return delivery


@pytest.fixture
def staff_admin() -> Client:
    user = get_user_model().objects.create_superuser("webmaster", "webmaster@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


# --- the staff API ----------------------------------------------------------------


def test_staff_register_an_endpoint_and_get_its_generated_secret(staff_token: str) -> None:
    created = create(staff_token, description=" Prize payouts ", event_types=["tournament.finished", "match.finished"])
    assert created["url"] == PUBLIC and created["description"] == "Prize payouts" and created["enabled"]
    assert created["event_types"] == ["match.finished", "tournament.finished"]  # the catalogue's order
    [secret] = created["secrets"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret["secret"]) and secret["expires_at"] is None
    assert created["deliveries"] == {"pending": 0, "succeeded": 0, "failed": 0}

    assert api("get", f"{ENDPOINTS}/{created['id']}", staff_token).json() == created
    assert api("get", ENDPOINTS, staff_token).json() == {"endpoints": [created]}
    assert Endpoint.objects.get().signing_secrets() == [secret["secret"]]
    second = create(staff_token, OTHER_PUBLIC)
    assert second["secrets"][0]["secret"] != secret["secret"]


@pytest.mark.parametrize("allowed", [False, True])
def test_plain_http_only_where_allowed(staff_token: str, allowed: bool) -> None:
    with override_settings(WEBHOOKS_ALLOW_HTTP=allowed):
        response = api("post", ENDPOINTS, staff_token, {"url": "http://93.184.216.34/hooks"})
    if allowed:
        assert response.status_code == 201
    else:
        assert refusal(response) == (400, "refused_url")
        assert "https" in response.json()["error"]["message"]
        assert not Endpoint.objects.exists()


INTERNAL = [
    "https://127.0.0.1/hooks",
    "https://10.0.0.1/hooks",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]:8443/hooks",
    "https://localhost/hooks",  # a name resolving to loopback
    "https://[::ffff:127.0.0.1]/hooks",
    # IPv6 addresses that carry an IPv4 one a gateway or the host may reach:
    "https://[64:ff9b::a9fe:a9fe]/hooks",  # NAT64 of 169.254.169.254
    "https://[64:ff9b:1::a00:1]/hooks",  # local-use NAT64 of 10.0.0.1
    "https://[2002:a9fe:a9fe::]/hooks",  # 6to4 of 169.254.169.254
    "https://[::a00:1]/hooks",  # IPv4-compatible 10.0.0.1
    "https://[::ffff:0:a00:1]/hooks",  # IPv4-translated 10.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hooks",  # Teredo, client 10.0.0.1
    "https://[fec0::1]/hooks",  # deprecated site-local
]


@pytest.mark.parametrize("url", INTERNAL)
@override_settings(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOWED_NETWORKS=[])
def test_the_guard_refuses_urls_into_the_servers_own_network(staff_token: str, url: str) -> None:
    response = api("post", ENDPOINTS, staff_token, {"url": url})
    assert refusal(response) == (400, "refused_url")
    assert "not a public address" in response.json()["error"]["message"]
    assert not Endpoint.objects.exists()


@override_settings(WEBHOOKS_ALLOWED_NETWORKS=["127.0.0.0/8", "::1/128"])
def test_the_allow_list_lets_only_its_networks_through(staff_token: str) -> None:
    assert create(staff_token, "https://127.0.0.1:9000/hooks")["url"] == "https://127.0.0.1:9000/hooks"
    assert create(staff_token, "https://localhost/hooks")["url"] == "https://localhost/hooks"
    assert create(staff_token, "https://[::1]/hooks")["url"] == "https://[::1]/hooks"
    assert refusal(api("post", ENDPOINTS, staff_token, {"url": "https://10.0.0.1/hooks"})) == (400, "refused_url")


@pytest.mark.parametrize(
    "body",
    [
        {"url": PUBLIC, "event_types": ["match.started", "match.exploded"]},
        {"url": PUBLIC, "event_types": ["webhook.test"]},  # sent on request only, never subscribed to
        {"url": PUBLIC, "description": "x" * 201},
        {"url": PUBLIC, "enabled": "yes"},
        {"url": PUBLIC, "secret": "whsec_mine"},  # secrets are generated, never chosen
        {"url": ""},
        {"description": "no url"},
    ],
)
def test_bad_endpoints_are_refused(staff_token: str, body: dict[str, Any]) -> None:
    response = api("post", ENDPOINTS, staff_token, body)
    assert refusal(response) == (400, "bad_request")
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", [f"{PUBLIC}a\r\nX-Injected: 1", f"{PUBLIC}a b", f"{PUBLIC}\ta", f"{PUBLIC}\x7f"])
def test_urls_with_spaces_or_control_characters_are_refused(staff_token: str, url: str) -> None:
    response = api("post", ENDPOINTS, staff_token, {"url": url})
    assert refusal(response) == (400, "refused_url")
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_that_does_not_exist_in_utc_is_a_bad_request(staff_token: str, since: str) -> None:
    endpoint = create(staff_token)
    replay = api("post", f"{ENDPOINTS}/{endpoint['id']}/replay", staff_token, {"since": since})
    assert refusal(replay) == (400, "bad_request")
    listing = api("get", f"/api/webhooks/messages?since={quote(since)}", staff_token)
    assert refusal(listing) == (400, "bad_request")


def test_patch_changes_only_what_is_sent_and_checks_a_new_url(staff_token: str) -> None:
    endpoint = create(staff_token, description="analytics", event_types=["match.finished"])
    path = f"{ENDPOINTS}/{endpoint['id']}"
    changed = api("patch", path, staff_token, {"event_types": []}).json()
    assert (changed["event_types"], changed["description"], changed["url"]) == ([], "analytics", PUBLIC)

    assert refusal(api("patch", path, staff_token, {"url": "https://10.1.2.3/"})) == (400, "refused_url")
    assert refusal(api("patch", path, staff_token, {"event_types": ["nope"]})) == (400, "bad_request")
    assert Endpoint.objects.get().url == PUBLIC
    assert api("patch", path, staff_token, {"url": OTHER_PUBLIC}).json()["url"] == OTHER_PUBLIC


def test_re_enabling_clears_the_flag_of_an_endpoint_disabled_for_failing(staff_token: str) -> None:
    endpoint_id = create(staff_token)["id"]
    Endpoint.objects.filter(pk=endpoint_id).update(
        enabled=False, needs_attention=True, disabled_reason="failing for 5 days", failing_since=timezone.now()
    )
    path = f"{ENDPOINTS}/{endpoint_id}"
    flagged = api("get", path, staff_token).json()
    assert (flagged["enabled"], flagged["needs_attention"], flagged["disabled_reason"]) == (
        False, True, "failing for 5 days",
    )  # fmt: skip
    enabled = api("patch", path, staff_token, {"enabled": True}).json()
    assert (enabled["enabled"], enabled["needs_attention"], enabled["disabled_reason"], enabled["failing_since"]) == (
        True, False, "", None,
    )  # fmt: skip
    disabled = api("patch", path, staff_token, {"enabled": False}).json()
    assert (disabled["enabled"], disabled["disabled_reason"]) == (False, "disabled by staff")


def test_delete_removes_the_endpoint(staff_token: str) -> None:
    endpoint_id = create(staff_token)["id"]
    emitted("match.started")
    response = api("delete", f"{ENDPOINTS}/{endpoint_id}", staff_token)
    assert response.status_code == 204
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    assert refusal(api("get", f"{ENDPOINTS}/{endpoint_id}", staff_token)) == (404, "not_found")
    assert refusal(api("delete", f"{ENDPOINTS}/{endpoint_id}", staff_token)) == (404, "not_found")
    assert refusal(api("get", f"{ENDPOINTS}/{2**70}", staff_token)) == (404, "not_found")


def test_rotation_keeps_the_old_secret_signing_until_the_overlap_ends(staff_token: str) -> None:
    created = create(staff_token)
    old = created["secrets"][0]["secret"]
    path = f"{ENDPOINTS}/{created['id']}/rotate-secret"
    rotated = api("post", path, staff_token, {"overlap_seconds": 3600}).json()
    new, previous = rotated["secrets"]
    assert previous["secret"] == old and new["secret"] != old and new["expires_at"] is None
    endpoint = Endpoint.objects.get()
    assert endpoint.signing_secrets() == [new["secret"], old]
    expires = EndpointSecret.objects.get(secret=old).expires_at
    assert expires is not None and abs((expires - timezone.now()) - timedelta(hours=1)) < timedelta(seconds=30)
    after_overlap = expires + timedelta(seconds=1)
    assert endpoint.signing_secrets(after_overlap) == [new["secret"]]

    # Without a body: the default overlap; an overlap of 0 drops the others at once.
    with override_settings(WEBHOOKS_SECRET_OVERLAP_SECONDS=600):
        assert len(api("post", path, staff_token).json()["secrets"]) == 3
    latest = api("post", path, staff_token, {"overlap_seconds": 0}).json()["secrets"]
    assert len(latest) == 1 and endpoint.signing_secrets() == [latest[0]["secret"]]
    assert refusal(api("post", path, staff_token, {"overlap_seconds": -1})) == (400, "bad_request")


def test_a_test_event_goes_to_that_endpoint_only(staff_token: str) -> None:
    chosen, other = create(staff_token), create(staff_token, OTHER_PUBLIC)
    response = api("post", f"{ENDPOINTS}/{chosen['id']}/test", staff_token)
    assert response.status_code == 201
    sent = response.json()
    assert sent["type"] == "webhook.test" and sent["id"].startswith("msg_")
    assert sent["payload"]["type"] == "webhook.test" and sent["payload"]["data"]["endpoint"] == chosen["id"]
    assert [(d["endpoint"], d["status"]) for d in sent["deliveries"]] == [(chosen["id"], "pending")]
    assert due(Delivery.objects.get(message_id=sent["id"]))
    assert not Delivery.objects.filter(endpoint_id=other["id"]).exists()
    assert api("get", f"{ENDPOINTS}/{chosen['id']}", staff_token).json()["deliveries"]["pending"] == 1


def test_a_test_event_to_a_disabled_endpoint_is_refused(staff_token: str) -> None:
    endpoint = create(staff_token, enabled=False)
    response = api("post", f"{ENDPOINTS}/{endpoint['id']}/test", staff_token)
    assert refusal(response) == (400, "bad_request")
    assert "disabled" in response.json()["error"]["message"]
    assert not Message.objects.exists()


def test_resend_starts_the_delivery_over(staff_token: str) -> None:
    first, second = create(staff_token), create(staff_token, OTHER_PUBLIC, event_types=["match.started"])
    message = emitted("match.finished")  # only the first wants it
    delivery = finish(message, Endpoint.objects.get(pk=first["id"]), "failed")

    response = api("post", f"/api/webhooks/messages/{message.pk}/resend", staff_token)
    assert response.json() == {"scheduled": 1}
    assert due(delivery)
    assert Delivery.objects.filter(message=message).count() == 1

    explicit = {"endpoints": [second["id"]]}  # it does not want match.finished
    assert refusal(api("post", f"/api/webhooks/messages/{message.pk}/resend", staff_token, explicit)) == (
        400, "bad_request",
    )  # fmt: skip
    assert refusal(api("post", "/api/webhooks/messages/msg_nope/resend", staff_token)) == (404, "not_found")


@override_settings(WEBHOOKS_RETRY_SCHEDULE=[0, 60, 60])
def test_a_resend_while_an_attempt_is_in_flight_is_not_undone_by_that_attempt(staff_token: str) -> None:
    endpoint = Endpoint.objects.get(pk=create(staff_token)["id"])
    message = emitted("match.finished")
    Delivery.objects.filter(message=message).update(attempts=2)  # its last scheduled attempt comes next
    [claimed] = claim("sender-a", 1)
    api("post", f"/api/webhooks/messages/{message.pk}/resend", staff_token)  # while sender-a is posting
    record(claimed, Outcome(at=timezone.now(), duration_ms=5, status_code=500))  # sender-a's attempt failed
    delivery = Delivery.objects.get(message=message, endpoint=endpoint)
    assert due(delivery), "the resend was undone: the failed attempt ended the schedule"
    assert Attempt.objects.filter(message=message, status_code=500).count() == 1  # the attempt is on record


def test_resend_to_a_chosen_endpoint_creates_its_delivery(staff_token: str) -> None:
    first = create(staff_token, enabled=False)
    create(staff_token, OTHER_PUBLIC)
    message = emitted("match.started")  # the disabled endpoint got no delivery
    body = {"endpoints": [first["id"]]}
    assert api("post", f"/api/webhooks/messages/{message.pk}/resend", staff_token, body).json() == {"scheduled": 1}
    assert due(Delivery.objects.get(message=message, endpoint_id=first["id"]))


def test_replay_sends_what_the_endpoint_missed_and_wants(staff_token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operations, "REPLAY_BATCH", 2)  # several batches
    down = Endpoint.objects.get(pk=create(staff_token, event_types=["match.finished"])["id"])
    up = Endpoint.objects.get(pk=create(staff_token, OTHER_PUBLIC)["id"])
    since = timezone.now() - timedelta(hours=1)
    too_old = emitted("match.finished", [down])
    Message.objects.filter(pk=too_old.pk).update(created_at=since - timedelta(minutes=1))
    finish(too_old, down, "failed")
    received = emitted("match.finished", [down])
    finish(received, down, "succeeded")
    missed = [emitted("match.finished", [up], id=number) for number in range(3)]  # while it was disabled
    failed = emitted("match.finished", [down])
    finish(failed, down, "failed")
    emitted("match.started", [up])  # a type it does not want
    emitted("webhook.test", [up])

    response = api("post", f"{ENDPOINTS}/{down.pk}/replay", staff_token, {"since": since.isoformat()})
    assert response.json() == {"scheduled": 4}
    replayed = Delivery.objects.filter(endpoint=down, status="pending", attempts=0, next_attempt_at__lte=timezone.now())
    assert {d.message_id for d in replayed} == {m.pk for m in [*missed, failed]}
    assert Delivery.objects.get(message=received, endpoint=down).status == "succeeded"
    assert Delivery.objects.get(message=too_old, endpoint=down).status == "failed"

    # Again: what is now pending is started over, nothing is duplicated.
    assert api("post", f"{ENDPOINTS}/{down.pk}/replay", staff_token, {"since": since.isoformat()}).json() == {
        "scheduled": 4
    }
    assert Delivery.objects.filter(endpoint=down).count() == 6  # too_old, received, failed and the 3 missed
    naive = (timezone.now() + timedelta(minutes=1)).replace(tzinfo=None).isoformat()  # UTC: after everything
    assert api("post", f"{ENDPOINTS}/{down.pk}/replay", staff_token, {"since": naive}).json() == {"scheduled": 0}
    assert refusal(api("post", f"{ENDPOINTS}/{down.pk}/replay", staff_token, {"since": "yesterday"})) == (
        400, "bad_request",
    )  # fmt: skip


def test_attempts_and_messages_are_listed_newest_first(staff_token: str) -> None:
    endpoint = Endpoint.objects.get(pk=create(staff_token)["id"])
    started, finished = emitted("match.started"), emitted("match.finished")
    start = timezone.now()
    for offset, (message, code) in enumerate([(started, 503), (started, 200), (finished, 500)]):
        Attempt.objects.create(
            delivery=Delivery.objects.get(message=message), endpoint=endpoint, message=message,
            at=start + timedelta(seconds=offset), succeeded=code == 200, status_code=code,
            response_excerpt="busy" if code == 503 else "", duration_ms=12, error="",
        )  # fmt: skip
    path = f"{ENDPOINTS}/{endpoint.pk}/attempts"
    listed = api("get", path, staff_token).json()["attempts"]
    assert [(a["message"], a["type"], a["status_code"]) for a in listed] == [
        (finished.pk, "match.finished", 500), (started.pk, "match.started", 200), (started.pk, "match.started", 503),
    ]  # fmt: skip
    assert listed[2]["response_excerpt"] == "busy" and listed[2]["duration_ms"] == 12
    failures = api("get", path, staff_token, {"succeeded": "false"}).json()["attempts"]
    assert [a["status_code"] for a in failures] == [500, 503]
    assert [a["status_code"] for a in api("get", path, staff_token, {"limit": 1}).json()["attempts"]] == [500]
    only_started = api("get", path, staff_token, {"message": started.pk}).json()["attempts"]
    assert [a["status_code"] for a in only_started] == [200, 503]
    assert refusal(api("get", path, staff_token, {"limit": 1000})) == (400, "bad_request")

    messages = api("get", "/api/webhooks/messages", staff_token).json()["messages"]
    assert [m["id"] for m in messages] == [finished.pk, started.pk]
    assert messages[0]["payload"] == json.loads(finished.body)
    assert messages[0]["deliveries"][0]["endpoint"] == endpoint.pk
    typed = api("get", "/api/webhooks/messages", staff_token, {"type": "match.started"}).json()["messages"]
    assert [m["id"] for m in typed] == [started.pk]


def test_only_staff_manage_webhooks(staff_token: str, alice: Player) -> None:
    endpoint_id = create(staff_token)["id"]
    message = emitted("match.started")
    calls = [
        ("get", ENDPOINTS, None),
        ("post", ENDPOINTS, {"url": OTHER_PUBLIC}),
        ("get", f"{ENDPOINTS}/{endpoint_id}", None),
        ("patch", f"{ENDPOINTS}/{endpoint_id}", {"enabled": False}),
        ("delete", f"{ENDPOINTS}/{endpoint_id}", None),
        ("post", f"{ENDPOINTS}/{endpoint_id}/rotate-secret", None),
        ("post", f"{ENDPOINTS}/{endpoint_id}/test", None),
        ("post", f"{ENDPOINTS}/{endpoint_id}/replay", {"since": "2026-01-01T00:00:00Z"}),
        ("get", f"{ENDPOINTS}/{endpoint_id}/attempts", None),
        ("get", "/api/webhooks/messages", None),
        ("post", f"/api/webhooks/messages/{message.pk}/resend", None),
    ]
    for method, path, body in calls:
        assert refusal(api(method, path, alice.token, body)) == (403, "forbidden"), (method, path)
        assert refusal(api(method, path, None, body)) == (401, "not_authenticated"), (method, path)
    endpoint = Endpoint.objects.get()
    assert (endpoint.enabled, endpoint.secrets.count(), Endpoint.objects.count()) == (True, 1, 1)
    assert Message.objects.count() == 1 and Delivery.objects.get().attempts == 0


# --- the admin --------------------------------------------------------------------


def test_admin_pages_render(staff_admin: Client, staff_token: str) -> None:
    endpoint = Endpoint.objects.get(pk=create(staff_token)["id"])
    message = emitted("match.finished", winner="alice")
    delivery = Delivery.objects.get()
    attempt = Attempt.objects.create(
        delivery=delivery, endpoint=endpoint, message=message, at=timezone.now(), succeeded=False,
        status_code=500, response_excerpt="it broke", duration_ms=40, error="",
    )  # fmt: skip
    listing = staff_admin.get("/admin/webhooks/endpoint/").content.decode()
    assert PUBLIC in listing and 'class="field-pending">1<' in listing
    page = staff_admin.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.signing_secrets()[0] in page  # the secret, shown to staff
    assert f"/admin/webhooks/attempt/?endpoint__id__exact={endpoint.pk}" in page
    message_page = staff_admin.get(f"/admin/webhooks/message/{message.pk}/change/").content.decode()
    assert "&quot;winner&quot;: &quot;alice&quot;" in message_page  # pretty-printed
    assert 'name="body"' not in message_page and "<textarea" not in message_page
    attempt_page = staff_admin.get(f"/admin/webhooks/attempt/{attempt.pk}/change/").content.decode()
    assert "it broke" in attempt_page and 'name="response_excerpt"' not in attempt_page
    for page_url in [
        "/admin/webhooks/message/?deliveries__status__exact=pending",
        f"/admin/webhooks/message/?deliveries__endpoint__id__exact={endpoint.pk}&type__exact=match.finished",
        "/admin/webhooks/delivery/?status__exact=pending",
        f"/admin/webhooks/delivery/{delivery.pk}/change/",
        "/admin/webhooks/attempt/?succeeded__exact=0&status_code__exact=500",
        "/admin/webhooks/endpoint/?needs_attention__exact=0&enabled__exact=1",
        "/admin/webhooks/endpoint/add/",
    ]:
        response = staff_admin.get(page_url)
        assert response.status_code == 200, page_url
    assert message.pk in staff_admin.get("/admin/webhooks/message/?type__exact=match.finished").content.decode()
    for nothing_to_add in ["message", "delivery", "attempt"]:
        assert staff_admin.get(f"/admin/webhooks/{nothing_to_add}/add/").status_code == 403
    assert staff_admin.get(f"/admin/webhooks/attempt/{attempt.pk}/delete/").status_code == 403
    staff_admin.post(f"/admin/webhooks/message/{message.pk}/change/", {"body": "{}", "type": "forged"})
    assert Message.objects.get().body == message.body and Message.objects.get().type == "match.finished"


def test_admin_adds_endpoints_through_the_same_checks(staff_admin: Client) -> None:
    form = {"url": PUBLIC, "description": "bot", "event_types": ["match.started", "match.finished"], "enabled": "on",
            "secrets-TOTAL_FORMS": "0", "secrets-INITIAL_FORMS": "0"}  # fmt: skip
    response = staff_admin.post("/admin/webhooks/endpoint/add/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    endpoint = Endpoint.objects.get()
    assert endpoint.event_types == ["match.started", "match.finished"] and len(endpoint.signing_secrets()) == 1

    refused = staff_admin.post("/admin/webhooks/endpoint/add/", {**form, "url": "https://169.254.169.254/"})
    assert refused.status_code == 200 and "not a public address" in refused.content.decode()
    assert Endpoint.objects.count() == 1


def action(client: Client, model: str, name: str, ids: list[Any], **extra: Any) -> str:
    response = client.post(f"/admin/webhooks/{model}/", {"action": name, "_selected_action": ids, **extra}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_admin_endpoint_actions(staff_admin: Client, staff_token: str) -> None:
    endpoint = Endpoint.objects.get(pk=create(staff_token)["id"])
    old_secret = endpoint.signing_secrets()[0]

    page = action(staff_admin, "endpoint", "send_test_event", [endpoint.pk])
    message = Message.objects.get(type="webhook.test")
    assert f"test event {message.pk} sent" in page
    assert [d.endpoint_id for d in message.deliveries.all()] == [endpoint.pk]

    action(staff_admin, "endpoint", "rotate_secret", [endpoint.pk])
    current, previous = endpoint.signing_secrets()
    assert previous == old_secret and current != old_secret

    action(staff_admin, "endpoint", "disable", [endpoint.pk])
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "is disabled" in action(staff_admin, "endpoint", "send_test_event", [endpoint.pk])
    Endpoint.objects.filter(pk=endpoint.pk).update(needs_attention=True, failing_since=timezone.now())
    action(staff_admin, "endpoint", "enable", [endpoint.pk])
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.needs_attention, endpoint.failing_since) == (True, False, None)


def test_admin_replays_since_a_time_it_asks_for(staff_admin: Client, staff_token: str) -> None:
    down = Endpoint.objects.get(pk=create(staff_token)["id"])
    other = Endpoint.objects.get(pk=create(staff_token, OTHER_PUBLIC)["id"])
    missed = emitted("match.finished", [other])
    asked = action(staff_admin, "endpoint", "replay_since", [down.pk])
    assert 'name="since"' in asked and "Replay messages since a time" in asked
    assert not Delivery.objects.filter(endpoint=down).exists()

    since = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    page = action(staff_admin, "endpoint", "replay_since", [down.pk], since=since, apply="Replay")
    assert "1 message(s) replayed" in page
    assert due(Delivery.objects.get(endpoint=down, message=missed))


def test_admin_resends_messages_and_deliveries(staff_admin: Client, staff_token: str) -> None:
    first = Endpoint.objects.get(pk=create(staff_token)["id"])
    second = Endpoint.objects.get(pk=create(staff_token, OTHER_PUBLIC)["id"])
    message = emitted("match.finished")
    one, two = finish(message, first, "succeeded"), finish(message, second, "failed")
    assert "resent to 2 endpoint(s)" in action(staff_admin, "message", "resend", [message.pk])
    assert due(one) and due(two)

    finish(message, first, "failed")
    assert "Resent 1 delivery." in action(staff_admin, "delivery", "resend", [one.pk])
    assert due(one)


def test_event_types_in_the_admin_form_are_the_catalogue(staff_admin: Client) -> None:
    page = staff_admin.get("/admin/webhooks/endpoint/add/").content.decode()
    assert re.findall(r'name="event_types" value="([a-z_.]+)"', page) == SUBSCRIBABLE


# --- end to end: a real receiver on loopback ------------------------------------


@override_settings(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOWED_NETWORKS=["127.0.0.0/8"])
def test_the_admins_test_event_reaches_a_receiver_that_still_holds_the_old_secret(
    staff_admin: Client, staff_token: str
) -> None:
    """A receiver whose operators have not yet taken the rotated secret still
    verifies what it gets during the overlap."""
    with receiver() as hook:
        created = create(staff_token, hook.url)
        hook.secrets = [created["secrets"][0]["secret"]]
        action(staff_admin, "endpoint", "rotate_secret", [created["id"]])
        action(staff_admin, "endpoint", "send_test_event", [created["id"]])
        assert asyncio.run(send_due()) == 1
        [request] = hook.received()
    message = Message.objects.get(type="webhook.test")
    assert request.verified and request.webhook_id == message.pk and request.type == "webhook.test"
    assert json.loads(request.body)["data"]["endpoint"] == created["id"]
    [attempt] = api("get", f"{ENDPOINTS}/{created['id']}/attempts", staff_token).json()["attempts"]
    assert (attempt["message"], attempt["succeeded"], attempt["status_code"]) == (message.pk, True, 200)
    assert api("get", f"{ENDPOINTS}/{created['id']}", staff_token).json()["deliveries"]["succeeded"] == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite lets one writer in at a time: no record can interleave"
)
def test_deleting_an_endpoint_while_an_attempt_is_recorded_deletes_both(staff_token: str) -> None:
    endpoint = Endpoint.objects.get(pk=create(staff_token)["id"])
    message = emitted("match.finished")
    [claimed] = claim("sender-a", 1)
    locked, recorded = threading.Event(), threading.Event()

    def record_slowly() -> None:
        """What record() does, with a pause between locking the delivery and committing its attempt."""
        try:
            with transaction.atomic():
                Delivery.objects.select_for_update().get(pk=claimed.delivery_id)
                locked.set()
                time.sleep(0.5)  # the delete starts meanwhile
                record(claimed, Outcome(at=timezone.now(), duration_ms=5, status_code=200))
            recorded.set()
        finally:
            connections.close_all()

    recorder = threading.Thread(target=record_slowly)
    recorder.start()
    assert locked.wait(5)
    response = api("delete", f"{ENDPOINTS}/{endpoint.pk}", staff_token)
    recorder.join(10)
    assert recorded.is_set()
    assert response.status_code == 204, response.content
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert not Attempt.objects.filter(message=message).exists()  # the attempt went with its endpoint
