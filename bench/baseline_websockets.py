"""Baseline (a), the upper bound: a broadcast server written with the
``websockets`` library alone. Rooms in a dict, no validation, no database:
every text a client sends to ``/room/<name>`` goes to everyone in the room.

Run: ``python -m bench.baseline_websockets PORT``
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = defaultdict(set)


async def handle(connection: ServerConnection) -> None:
    room = rooms[connection.request.path]
    room.add(connection)
    try:
        async for message in connection:
            broadcast(room, message)
    finally:
        room.discard(connection)


async def main(port: int) -> None:
    async with serve(handle, "127.0.0.1", port, max_size=65536, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
