"""Settings, read from the environment (twelve-factor).

With no variable set the project runs on an embedded default: SQLite and the
in-memory channel layer, so ``runserver`` works on a fresh machine. Production
sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (channels-redis); the
README lists every variable.
"""

import os
import secrets
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from gameproject.redis_config import channel_layer_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

# The embedded default: no DATABASE_URL means a local SQLite run (a fresh
# checkout, `runserver`), which must work with no variable set at all.
EMBEDDED = not os.environ.get("DATABASE_URL")


def development_secret_key() -> str:
    """A random key kept in a git-ignored file, for local runs only."""
    path = BASE_DIR / ".dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or EMBEDDED):
        raise ImproperlyConfigured("Set SECRET_KEY: it is required whenever DATABASE_URL is set.")
    SECRET_KEY = development_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Origins a browser may open a WebSocket from. Never derived from ALLOWED_HOSTS,
# which is often "*": an explicit list, plus localhost for local runs.
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS") or [
    *CSRF_TRUSTED_ORIGINS,
    *(["localhost", "127.0.0.1", "[::1]"] if DEBUG or EMBEDDED else []),
]
# Browsers always send Origin; clients that send none (bots, servers) cannot
# carry a victim's cookies, so they are allowed unless this is turned off.
WEBSOCKET_ALLOW_MISSING_ORIGIN = env_bool("WEBSOCKET_ALLOW_MISSING_ORIGIN", True)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "games",
    # Before the apps that react to the engine's signals (tournaments): its
    # receivers write a match's own webhook before the messages of what
    # that match causes (the tournament final it decides, say).
    "webhooks",
    "tournaments",
    "payments",
    "classic_games",
    # Only the loadtest and benchcosts commands; loading it imports nothing
    # outside requirements.txt (see bench/apps.py).
    "bench",
    "reversi",
    "lightcycles",
    "ratings",
    "bots",
    "matchmaking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gameproject.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "gameproject.asgi.application"

# Under ASGI every request and consumer call may run on another thread, so
# persistent connections would leak: CONN_MAX_AGE stays 0.
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # psycopg's pool: with CONN_MAX_AGE=0 every consumer call and request
    # would otherwise open a new connection (a few ms each); closing now
    # returns the connection to the pool.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", 10)),
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock at BEGIN, so two transactions that
    # read-then-write the same match serialise instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})

CHANNEL_LAYERS = channel_layer_settings(
    os.environ.get("REDIS_URL", ""),
    prefix=os.environ.get("CHANNEL_LAYER_PREFIX", "games"),
    flavour=os.environ.get("REDIS_CHANNEL_LAYER", "core"),
)

# Django's cache (finished matches' replays): Redis when configured, so all
# processes share it; this process's memory on the embedded default.
CACHES = {
    # A finished chess match's replay is under a megabyte; at most this many.
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 64}}
}
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("CHANNEL_LAYER_PREFIX", "games"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves straight from the apps' static folders, so no
# collectstatic step is needed for daphne to serve the page and the admin.
WHITENOISE_USE_FINDERS = True
# STATIC_ROOT exists only after collectstatic (a build step on Heroku);
# WhiteNoise serves from the finders until then, so its warning is noise.
warnings.filterwarnings("ignore", message="No directory at: .*staticfiles")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Behind Heroku's router (daphne runs with --proxy-headers).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Cookies only over HTTPS in production; a local run is plain http://localhost.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not (DEBUG or EMBEDDED))
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not (DEBUG or EMBEDDED))
# HTTPS everywhere, once the site has a certificate (off by default: a local
# run is plain http). With SECURE_SSL_REDIRECT a page opened over http moves
# to https before its sockets would be refused by an https-only origin list;
# HSTS then makes browsers skip http altogether (see README, Deploy).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
# A platform's health checks call over plain http inside its network.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")

# Game server limits.
GAMES_WS_MAX_MESSAGE_BYTES = int(os.environ.get("GAMES_WS_MAX_MESSAGE_BYTES", 16 * 1024))
GAMES_TICKET_TTL_SECONDS = int(os.environ.get("GAMES_TICKET_TTL_SECONDS", 30))
# A resync further behind gets a snapshot: replaying more costs more than one
# snapshot (the events come from the nearest checkpoint, kept every 16 events).
GAMES_RESYNC_MAX_EVENTS = int(os.environ.get("GAMES_RESYNC_MAX_EVENTS", 16))
# Deadlines (clocks, move and abandon timeouts) are enforced by a loop: in its
# own process in production (`manage.py runclock`), or inside the server when
# the in-memory layer is used, since another process could not reach its sockets.
GAMES_CLOCK_IN_PROCESS = env_bool("GAMES_CLOCK_IN_PROCESS", not os.environ.get("REDIS_URL"))
GAMES_CLOCK_POLL_SECONDS = float(os.environ.get("GAMES_CLOCK_POLL_SECONDS", 0.2))
# Each server process marks its open sockets alive this often; sockets not
# marked for two periods belong to a process that died and are closed.
GAMES_HEARTBEAT_SECONDS = float(os.environ.get("GAMES_HEARTBEAT_SECONDS", 15))
# Threads a server process runs its sockets' database calls on (games.database_threads),
# each holding a pooled connection while it works: keep it at most DATABASE_POOL_MAX_SIZE.
# One on SQLite, which has one writer at a time.
_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
GAMES_DATABASE_THREADS = int(os.environ.get("GAMES_DATABASE_THREADS", 1 if _SQLITE else 4))

# Rate limits ("limits" strings, several joined by ";"), each overridable by
# the environment variable GAMES_LIMIT_<NAME>; see games.quotas and the README.
# Per socket: counted in the socket's process. Per player and per client
# address: counted in Redis when REDIS_URL is set, so they hold across processes.
DEFAULT_GAMES_LIMITS = {
    # Bots playing bots (and the benchmark's closed loop) move as fast as the
    # server answers: tens of moves a second on one socket.
    "socket_messages": "100/second;3000/minute",
    "socket_moves": "50/second;1500/minute",
    "socket_resyncs": "2/second;30/minute",
    "address_resyncs": "5/second;100/minute",
    "player_chat": "3/second;30/minute",
    "player_socket_opens": "30/second;300/minute",
    "address_socket_opens": "50/second;600/minute",
    "player_http_actions": "30/second;900/minute",
    "address_replays": "10/second;120/minute",
    "address_player_creation": "30/minute;300/hour",
    "address_match_creation": "60/minute;600/hour",
}
GAMES_LIMITS = {key: os.environ.get(f"GAMES_LIMIT_{key.upper()}", val) for key, val in DEFAULT_GAMES_LIMITS.items()}
GAMES_LIMITS_STORAGE = os.environ.get("GAMES_LIMITS_STORAGE", os.environ.get("REDIS_URL", "") or "memory://")
GAMES_LIMITS_PREFIX = os.environ.get("CHANNEL_LAYER_PREFIX", "games")
# Quotas: sockets one player may hold open on one server process, and
# matches one player may have waiting for opponents at once.
GAMES_MAX_SOCKETS_PER_PLAYER = int(os.environ.get("GAMES_MAX_SOCKETS_PER_PLAYER", 50))
GAMES_MAX_SOCKETS_PER_ADDRESS = int(os.environ.get("GAMES_MAX_SOCKETS_PER_ADDRESS", 500))
# Proxies in front of the server that each append the address they saw to
# X-Forwarded-For (Heroku's router: 1); the client's address for the limits
# is the entry that many places from the right. 0: the peer's address.
GAMES_TRUSTED_PROXY_HOPS = int(os.environ.get("GAMES_TRUSTED_PROXY_HOPS", 0 if EMBEDDED else 1))
GAMES_MAX_OPEN_MATCHES_PER_PLAYER = int(os.environ.get("GAMES_MAX_OPEN_MATCHES_PER_PLAYER", 10))

# --- real-time matches (games.realtime; see the README's Real-time matches section) ---
# Every server process runs a supervisor that takes over and runs live real-time
# matches (the worker always runs one); 0: only the worker does.
GAMES_REALTIME_IN_PROCESS = env_bool("GAMES_REALTIME_IN_PROCESS", True)
# A dead owner's matches are taken over this long after its last renewal.
GAMES_REALTIME_LEASE_SECONDS = float(os.environ.get("GAMES_REALTIME_LEASE_SECONDS", 1.0))
# How often owners renew their leases and supervisors look for lapsed ones.
GAMES_REALTIME_RENEW_SECONDS = float(os.environ.get("GAMES_REALTIME_RENEW_SECONDS", 0.25))
# How long a socket waits for a live match's owner's snapshot before reading the database.
GAMES_REALTIME_SNAPSHOT_SECONDS = float(os.environ.get("GAMES_REALTIME_SNAPSHOT_SECONDS", 1.0))
# The countdown before a real-time match's first tick, for every game (None: each game's own).
GAMES_REALTIME_START_DELAY_MS = (
    int(os.environ["GAMES_REALTIME_START_DELAY_MS"]) if os.environ.get("GAMES_REALTIME_START_DELAY_MS") else None
)
# The worker (`manage.py runclock`) serves its own Prometheus metrics (tick lateness of
# the matches it owns) at http://127.0.0.1:PORT/metrics; 0: none.
GAMES_WORKER_METRICS_PORT = int(os.environ.get("GAMES_WORKER_METRICS_PORT") or 0)
# --- end real-time matches ---

# --- ratings (the ratings app; see the README's Ratings section) ---
# A rating whose deviation (openskill's sigma, on the 1500 scale; a new
# player starts at 350) is above this is provisional: marked as such and kept
# off the leaderboards. 175 is reached after 10 to 14 games against settled
# players (see ratings/skill.py for the constants and why).
RATINGS_PROVISIONAL_DEVIATION = float(os.environ.get("RATINGS_PROVISIONAL_DEVIATION", 175))
# --- end ratings ---

# --- bots (the bots app; see the README's Computer opponents section) ---
# An executable speaking UCI (Debian's /usr/games/stockfish) for the chess
# bots' search; without it they use the built-in search.
CHESS_ENGINE = os.environ.get("CHESS_ENGINE", "")
# Bots think and move inside the server process (the embedded default) or in
# the worker; the worker always runs them. In-process bots need the clock in
# the process too (its sweep attaches them and catches up on missed turns).
BOTS_IN_PROCESS = env_bool("BOTS_IN_PROCESS", GAMES_CLOCK_IN_PROCESS)
# Processes each bot-running process thinks in (searches never run on a
# server's interpreter); each may run a UCI engine of its own.
BOTS_THINKING_PROCESSES = int(os.environ.get("BOTS_THINKING_PROCESSES", 1))
# Active matches one player may have against the computer at once.
BOTS_MAX_ACTIVE_MATCHES_PER_PLAYER = int(os.environ.get("BOTS_MAX_ACTIVE_MATCHES_PER_PLAYER", 5))
# --- end bots ---

# --- matchmaking (the matchmaking app; see the README's Quick play section) ---
# Each pool's waiting seeks are paired in a wave this often (by the clock loop).
MATCHMAKING_WAVE_SECONDS = float(os.environ.get("MATCHMAKING_WAVE_SECONDS", 2))
# A new seek also runs its pool's wave at once (pairing it if someone acceptable
# waits); off, seeks are paired only in the waves (see docs/matchmaking.md).
MATCHMAKING_PAIR_AT_ONCE = env_bool("MATCHMAKING_PAIR_AT_ONCE", True)
# A seek lapses this many seconds after it was last held: HTTP callers poll it at
# least this often; servers refresh their sockets' seeks every quarter of it.
MATCHMAKING_HOLD_SECONDS = float(os.environ.get("MATCHMAKING_HOLD_SECONDS", 20))
# Seconds of waiting after which a seek that does not say (bot_after) takes a
# computer opponent; 0: only seeks that ask for one get one.
MATCHMAKING_BOT_AFTER_SECONDS = int(os.environ.get("MATCHMAKING_BOT_AFTER_SECONDS", 0))
# Quick-play pools one player may wait in at once (a flood of seeks, each a
# possible match against the computer, is refused as too_many_open_matches).
MATCHMAKING_MAX_SEEKS_PER_PLAYER = int(os.environ.get("MATCHMAKING_MAX_SEEKS_PER_PLAYER", 3))
# --- end matchmaking ---

# --- outgoing webhooks (the webhooks app; see the README's Outgoing webhooks section) ---
# Endpoints may use plain http only where this is on (local development); the
# embedded default allows it, production needs https.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", DEBUG or EMBEDDED)
# Networks (CIDR, comma-separated) an endpoint may resolve to even though they
# are private, loopback or link-local; empty: only public addresses.
WEBHOOKS_ALLOWED_NETWORKS = env_list("WEBHOOKS_ALLOWED_NETWORKS")
# A PEM file of the CA certificates https endpoints' certificates are verified
# against instead of the default trust store (certifi); empty: the default.
WEBHOOKS_CA_BUNDLE = os.environ.get("WEBHOOKS_CA_BUNDLE", "")
# Seconds one attempt may take (connect, send, answer) before it fails.
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", 15))
# A sender claims a delivery for this long; if it dies, another sender takes
# the delivery over once the claim lapses. Longer than an attempt can take.
WEBHOOKS_CLAIM_SECONDS = float(os.environ.get("WEBHOOKS_CLAIM_SECONDS", WEBHOOKS_TIMEOUT_SECONDS + 45))
# Seconds to wait before each attempt (Standard Webhooks' schedule); each
# delay after the first gets up to 10% of jitter.
WEBHOOKS_RETRY_SCHEDULE = [
    float(value) for value in env_list("WEBHOOKS_RETRY_SCHEDULE", "0,5,300,1800,7200,18000,36000,36000")
]
# An endpoint whose every attempt has failed for this long is disabled and
# flagged to staff (5 days).
WEBHOOKS_DISABLE_AFTER_SECONDS = float(os.environ.get("WEBHOOKS_DISABLE_AFTER_SECONDS", 5 * 24 * 3600))
# Attempts one sender process has in flight at once, and at most per endpoint
# (so a slow endpoint cannot take every slot).
WEBHOOKS_CONCURRENCY = int(os.environ.get("WEBHOOKS_CONCURRENCY", 32))
WEBHOOKS_CONCURRENCY_PER_ENDPOINT = int(os.environ.get("WEBHOOKS_CONCURRENCY_PER_ENDPOINT", 4))
# How long a rotated secret keeps signing beside the new one (24 h).
WEBHOOKS_SECRET_OVERLAP_SECONDS = float(os.environ.get("WEBHOOKS_SECRET_OVERLAP_SECONDS", 24 * 3600))
# Seconds between a sender's checks for due retries (new messages wake it at once).
WEBHOOKS_POLL_SECONDS = float(os.environ.get("WEBHOOKS_POLL_SECONDS", 1))
# Messages (and their attempts) older than this many days are deleted.
WEBHOOKS_RETENTION_DAYS = int(os.environ.get("WEBHOOKS_RETENTION_DAYS", 30))
# Webhooks are sent by the server process (the embedded default) or by the worker.
WEBHOOKS_IN_PROCESS = env_bool("WEBHOOKS_IN_PROCESS", GAMES_CLOCK_IN_PROCESS)
# --- end outgoing webhooks ---

# The gateway named in an entry's payment instructions ("stripe", or the slug
# of a Standard Webhooks provider configured with PAYMENTS_<SLUG>_WEBHOOK_SECRET).
PAYMENTS_PROVIDER = os.environ.get("PAYMENTS_PROVIDER", "stripe")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Webhook attempts are stored (webhooks.Attempt); httpx's line per request
    # would repeat them, query strings (which may hold a receiver's token) included.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
