"""The Redis channel layer as configured from REDIS_URL, against the real
Redis. Each test guards one trap of channels-redis on redis-py 8 (see
``gameproject/redis_config.py``)."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer as StockRedisChannelLayer
from django.conf import settings
from redis.exceptions import MaxConnectionsError

pytestmark = pytest.mark.integration

BURST = 500


async def burst(layer) -> None:
    """What ~500 sockets connecting at once do: join a group each, then one
    broadcast reaches all of them."""
    channels = [await layer.new_channel() for _ in range(BURST)]
    await asyncio.gather(*(layer.group_add("burst", channel) for channel in channels))
    await layer.group_send("burst", {"type": "hello"})
    received = await asyncio.gather(*(layer.receive(channel) for channel in channels))
    assert all(message == {"type": "hello"} for message in received)
    await asyncio.gather(*(layer.group_discard("burst", channel) for channel in channels))


async def test_a_burst_of_sockets_waits_for_pool_connections_instead_of_failing() -> None:
    layer = get_channel_layer()
    assert type(layer).__module__ == "gameproject.channel_layers"
    await layer.flush()
    await burst(layer)
    await layer.flush()


async def test_control_the_stock_pool_fails_the_same_burst() -> None:
    """Shows the test above can fail: the same burst on channels-redis's own
    pool (redis-py's default of 100 connections) raises."""
    host = {"address": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"]}
    stock = StockRedisChannelLayer(
        hosts=[host], prefix=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] + "-stock"
    )
    with pytest.raises(MaxConnectionsError):
        await burst(stock)
    await asyncio.sleep(1)  # let the burst's other commands finish before cleaning up
    await stock.flush()


async def test_idle_receive_outlives_the_blocking_pop_timeout() -> None:
    """A consumer with nothing to read sits in BZPOPMIN for brpop_timeout
    seconds at a time; the socket timeout must be longer, or redis-py raises
    TimeoutError and Channels closes the socket with 1011."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    socket_timeout = layer.hosts[0]["socket_timeout"]
    assert socket_timeout >= layer.brpop_timeout * 2
    with pytest.raises(TimeoutError) as waited:
        await asyncio.wait_for(layer.receive(channel), timeout=layer.brpop_timeout + 1.5)
    assert type(waited.value) is TimeoutError  # our own wait ran out, not a Redis read
    await layer.send(channel, {"type": "late"})
    assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "late"}
    await layer.flush()
