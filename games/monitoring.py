"""Health checks and Prometheus metrics (``prometheus-client``).

* ``GET /health/live``: the process answers (no dependency is checked).
* ``GET /health/ready``: the database and the channel layer answer; 503 with
  the failing check otherwise, so a router stops sending traffic here.
* ``GET /metrics``: the Prometheus text format, for ``Authorization: Bearer
  $METRICS_TOKEN``; 404 while ``METRICS_TOKEN`` is unset.

Counters and histograms are this process's (scrape every web process, as
Prometheus does); gauges about matches and clock flags are read from the
database at scrape time, so they hold for the whole deployment.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from games import lifecycle

MOVES = Counter("games_moves_total", "Player actions by outcome: accepted, or the refusal's error code", ["outcome"])
MOVE_LATENCY = Histogram(
    "games_move_latency_seconds",
    "From a move's receipt on a socket to its broadcast (committed and sent to the layer)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RESYNCS = Counter("games_resyncs_total", "Resyncs served to sockets (asked for, or a gap filled)")
RATE_LIMITED = Counter("games_rate_limited_total", "Requests refused by a rate limit or quota", ["limit"])
OPEN_SOCKETS = Gauge("games_open_sockets", "WebSockets open in this process, by kind", ["kind"])
# Consumer class name -> the ``kind`` label its open sockets are counted under.
SOCKET_KINDS = {"MatchConsumer": "match", "LobbyConsumer": "lobby"}


def count_sockets_as(kind: str, *consumer_names: str) -> None:
    """Count the open sockets of the consumer classes named ``consumer_names``
    under ``kind`` in ``games_open_sockets`` (an app's ``AppConfig.ready``
    registers its own consumers). By name, so registering imports nothing."""
    for name in consumer_names:
        SOCKET_KINDS[name] = kind


class DatabaseCollector(Collector):
    """Figures of the whole deployment, read from the database when scraped."""

    def describe(self) -> Any:
        """Names only: without this, registering would query the database at import."""
        yield GaugeMetricFamily("games_active_matches", "Matches being played now")
        yield CounterMetricFamily("games_clock_flags", "Matches ended by the server's clock", labels=["kind"])

    def collect(self) -> Any:
        from games.models import Match, MatchEvent

        active = GaugeMetricFamily("games_active_matches", "Matches being played now")
        active.add_metric([], Match.objects.filter(status=Match.Status.ACTIVE).count())
        yield active
        flags = CounterMetricFamily("games_clock_flags", "Matches ended by the server's clock", labels=["kind"])
        for kind in (MatchEvent.Kind.TIMEOUT, MatchEvent.Kind.ABANDON):
            flags.add_metric([kind], MatchEvent.objects.filter(kind=kind).count())
        yield flags


REGISTRY.register(DatabaseCollector())


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "channel_layer": _check(_channel_layer)}
    healthy = all(result == "ok" for result in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    token = os.environ.get("METRICS_TOKEN", "")
    if not token:
        return JsonResponse({"error": {"code": "not_found", "message": "set METRICS_TOKEN to enable"}}, status=404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse({"error": {"code": "not_authenticated", "message": "send the metrics token"}}, status=401)
    counts = {kind: 0 for kind in SOCKET_KINDS.values()}
    for socket in list(lifecycle._open):
        kind = SOCKET_KINDS.get(type(socket).__name__)
        if kind:
            counts[kind] += 1
    for kind, count in counts.items():
        OPEN_SOCKETS.labels(kind=kind).set(count)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as problem:
        return f"failed: {type(problem).__name__}: {problem}"[:200]
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _channel_layer() -> None:
    """Send a message to a fresh channel and receive it back, within 2 s."""

    async def round_trip() -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel("health.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "health.check", "token": token})
        received = await asyncio.wait_for(layer.receive(channel), 2)
        if received.get("token") != token:
            raise RuntimeError("the channel layer returned another message")

    async_to_sync(round_trip)()
