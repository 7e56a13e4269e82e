"""The worker (``manage.py runclock``) serves its own Prometheus metrics on
loopback when given a port: the tick lateness and loops of the real-time
matches it owns live in its process, which has no HTTP server otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import live

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_runclock_serves_its_metrics_on_the_port_it_is_given(tmp_path: Path) -> None:
    port = live.free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gameproject.settings", "DATABASE_URL": live.test_database_url(),
           "SECRET_KEY": "live-test-secret", "GAMES_WORKER_METRICS_PORT": ""}  # fmt: skip
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed with the process)
    worker = subprocess.Popen([sys.executable, "manage.py", "runclock", "--metrics-port", str(port)], cwd=live.ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline, text = time.monotonic() + 30, ""
        while time.monotonic() < deadline and not text:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).raise_for_status().text
            except httpx.HTTPError:
                time.sleep(0.1)
        families = {family.name: family for family in text_string_to_metric_families(text)}
        (loops,) = families["games_realtime_loops"].samples
        assert loops.value == 0  # no live real-time match: nothing to run
        assert "games_realtime_tick_lateness_seconds" in families
        for _ in range(12):  # more scrapes than the database pool has connections: each hands its own back
            assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
    finally:
        live.stop([worker])
        log.close()
    assert "metrics at http://127.0.0.1:" in (tmp_path / "worker.log").read_text()
