"""The Redis channel layer with a pool that waits instead of failing."""

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class RedisChannelLayer(BaseRedisChannelLayer):
    """channels-redis's core layer, on redis-py's ``BlockingConnectionPool``.

    The stock pool raises ``MaxConnectionsError`` as soon as more commands are
    in flight than it has connections; the blocking pool queues them for up to
    ``timeout`` seconds (see ``gameproject.redis_config``).
    """

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        return BlockingConnectionPool.from_url(host.pop("address"), **host)
