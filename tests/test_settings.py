"""Configuration from the environment, checked in fresh interpreters so each
case sees exactly the variables it sets."""

from __future__ import annotations

import json
import os
import secrets
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
                    "WEBSOCKET_ALLOWED_ORIGINS", "GAMES_CLOCK_IN_PROCESS", "CHANNEL_LAYER_PREFIX",
                    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}  # fmt: skip


def settings_with(**variables: str) -> subprocess.CompletedProcess:
    return run_with(variables, "-c", PROBE)


def run_with(variables: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    """``python <arguments>`` in a fresh interpreter that sees only ``variables`` of the configuration."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE="gameproject.settings")
    return subprocess.run([sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True)


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


PRODUCTION = {
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "play.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://play.example.com",
}
HTTPS_ONLY = {
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def test_check_deploy_is_clean_with_the_documented_production_variables() -> None:
    check = run_with({**PRODUCTION, **HTTPS_ONLY}, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout
    assert "WARNING" not in check.stderr


def test_https_redirect_and_hsts_come_from_the_environment() -> None:
    check = run_with(PRODUCTION, "manage.py", "check", "--deploy")
    assert "security.W004" in check.stderr and "security.W008" in check.stderr  # off unless set: local runs are http
    probe = run_with(
        {**PRODUCTION, **HTTPS_ONLY},
        "-c",
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)",
    )
    assert probe.stdout.split() == ["True", "31536000", "True", "True"], probe.stderr
