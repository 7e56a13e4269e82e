"""Health checks and Prometheus metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from games import services
from games.models import Player
from tests.conftest import open_socket, pair
from tests.live import own_redis, running_processes

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(client: Client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_liveness_and_readiness(transactional_db: None) -> None:
    client = Client()
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "channel_layer": "ok"}}


@pytest.mark.integration
def test_readiness_fails_while_the_channel_layer_is_down(transactional_db: None, tmp_path: Path) -> None:
    with own_redis(tmp_path) as (redis_url, redis), running_processes(tmp_path, env={"REDIS_URL": redis_url}) as live:
        urls = live[0]
        assert httpx.get(f"{urls[0]}/health/ready").status_code == 200
        redis.kill()
        redis.wait()
        answer = httpx.get(f"{urls[0]}/health/ready", timeout=30)
        assert answer.status_code == 503
        assert answer.json()["checks"]["database"] == "ok"
        assert answer.json()["checks"]["channel_layer"].startswith("failed")
        assert httpx.get(f"{urls[0]}/health/live").status_code == 200


def test_metrics_need_the_token(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    assert client.get("/metrics").status_code == 404
    monkeypatch.setenv("METRICS_TOKEN", "scrape-me")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics").status_code == 401


async def test_metrics_count_moves_by_outcome_and_time_them(
    active_match: dict, alice: Player, bob: Player, connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.db import database_sync_to_async

    monkeypatch.setenv("METRICS_TOKEN", "scrape-me")
    client = Client()
    before = await database_sync_to_async(scrape)(client)
    a, _ = await pair(connect, active_match["id"], alice, bob)
    await a.move({"cell": 4})
    await a.next("event")
    await a.move({"cell": 5})
    assert (await a.next("error"))["code"] == "not_your_turn"
    await a.send({"type": "resync", "after": 2})
    assert (await a.next("event"))["seq"] == 3
    with override_settings(GAMES_MAX_SOCKETS_PER_PLAYER=1):  # alice already holds one
        extra, _, _ = await open_socket(active_match["id"], alice)
        assert (await extra.receive())["code"] == "rate_limited"
        await extra.close()
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    assert (await database_sync_to_async(client.post)("/webhooks/stripe", "{}", "application/json")).status_code == 404
    after = await database_sync_to_async(scrape)(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("games_moves_total", outcome="accepted") == 1
    assert grew("games_moves_total", outcome="not_your_turn") == 1
    assert grew("games_move_latency_seconds_count") == 1
    assert grew("games_resyncs_total") == 1
    assert grew("games_rate_limited_total", limit="player_sockets") == 1
    assert grew("games_webhook_deliveries_total", outcome="not_configured") == 1
    assert after[("games_open_sockets", (("kind", "match"),))] == 2
    assert after[("games_active_matches", ())] == 1
    await database_sync_to_async(services.act)(active_match["id"], bob, "resign")
    assert (await database_sync_to_async(scrape)(client))[("games_active_matches", ())] == 0
