"""Configuration from the environment, checked in fresh interpreters so each
case sees exactly the variables it sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gameproject.redis_config import channel_layer_settings, redis_host

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "engine": s.DATABASES["default"]["ENGINE"],
    "layer": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "debug": s.DEBUG,
    "origins": s.WEBSOCKET_ALLOWED_ORIGINS,
    "clock_in_process": s.GAMES_CLOCK_IN_PROCESS,
    "secure_cookies": s.SESSION_COOKIE_SECURE,
    "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
}))
"""
CONFIG_VARIABLES = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
                    "WEBSOCKET_ALLOWED_ORIGINS", "GAMES_CLOCK_IN_PROCESS", "CHANNEL_LAYER_PREFIX"}  # fmt: skip


def settings_with(**variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE="gameproject.settings")
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)


def test_no_variables_at_all_runs_the_embedded_default() -> None:
    probe = settings_with()
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert seen["debug"] is False
    assert "localhost" in seen["origins"]  # the page can open its socket
    assert seen["clock_in_process"] is True  # no worker could reach the in-memory layer
    assert seen["conn_max_age"] == 0


def test_production_needs_a_secret_key() -> None:
    probe = settings_with(DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert probe.returncode != 0
    assert "Set SECRET_KEY" in probe.stderr


def test_production_origins_never_come_from_allowed_hosts() -> None:
    probe = settings_with(
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SECRET_KEY="k",
        ALLOWED_HOSTS="*",
        CSRF_TRUSTED_ORIGINS="https://play.example.com",
    )
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    assert seen["origins"] == ["https://play.example.com"]
    assert seen["layer"] == "gameproject.channel_layers.RedisChannelLayer"
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["clock_in_process"] is False and seen["secure_cookies"] is True


def test_rediss_urls_skip_certificate_checks_unless_asked() -> None:
    assert redis_host("rediss://h:6380")["ssl_cert_reqs"] == "none"
    assert "ssl_cert_reqs" not in redis_host("redis://h:6379")
    config = channel_layer_settings("rediss://h:6380", prefix="p")["default"]["CONFIG"]
    assert config["hosts"][0]["address"] == "rediss://h:6380" and config["prefix"] == "p"
