"""Turn ``REDIS_URL`` into a channel layer configuration.

Two traps of channels-redis 4.3 on redis-py 8, both measured on this project's
machine, are configured away here:

* redis-py's default pool refuses the 101st concurrent connection with
  ``MaxConnectionsError``; a burst of ~400 sockets joining groups at once hits
  it. :class:`gameproject.channel_layers.RedisChannelLayer` uses a blocking
  pool instead, so a burst waits for a free connection.
* redis-py 8 defaults ``socket_timeout`` to 5 s, the same as channels-redis's
  blocking receive (``BZPOPMIN`` with a 5 s timeout), so an idle consumer can
  die with ``TimeoutError`` (redis/redis-py#4091). The socket timeout here is
  well above the blocking receive.

And one trap of any pool: after Redis restarts, every pooled connection is
dead, and the first command on each fails with "Connection closed by server".
Commands are retried on a fresh connection (three times, backing off up to
one second), so a restarted Redis is usable at once.
"""

import os
from urllib.parse import urlparse

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", 30))
REDIS_MAX_CONNECTIONS = int(os.environ.get("REDIS_MAX_CONNECTIONS", 200))
REDIS_POOL_TIMEOUT = float(os.environ.get("REDIS_POOL_TIMEOUT", 20))


def redis_host(url: str) -> dict:
    """Connection keyword arguments for one Redis host, as channels-redis takes them."""
    host: dict = {
        "address": url,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": 10,
        "socket_keepalive": True,
        "max_connections": REDIS_MAX_CONNECTIONS,
        "timeout": REDIS_POOL_TIMEOUT,
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        "retry_on_error": [RedisConnectionError],
    }
    if urlparse(url).scheme == "rediss" and os.environ.get("REDIS_TLS_VERIFY", "") not in {"1", "true"}:
        # Managed Redis (Heroku and others) presents self-signed certificates.
        host["ssl_cert_reqs"] = "none"
    return host


def channel_layer_settings(redis_url: str, prefix: str = "games", flavour: str = "core") -> dict:
    """``flavour`` picks channels-redis's layer: ``core`` (lists and sorted
    sets, the default) or ``pubsub`` (Redis pub/sub, lower latency, no
    delivery to a consumer that is not listening at that instant)."""
    if not redis_url:
        # The same capacity as on Redis: one process channel (the real-time
        # relay's) carries every live match's tick frames.
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    if flavour == "pubsub":
        host = {key: value for key, value in redis_host(redis_url).items() if key not in ("timeout",)}
        return {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [host], "prefix": prefix},
            }
        }
    return {
        "default": {
            "BACKEND": "gameproject.channel_layers.RedisChannelLayer",
            "CONFIG": {
                "hosts": [redis_host(redis_url)],
                "prefix": prefix,
                "capacity": 1000,
                "expiry": 60,
                # A socket leaves its group after this long even if still
                # open (channels-redis's default is one day).
                "group_expiry": 7 * 24 * 3600,
            },
        }
    }
