"""uvicorn's WebSocket protocol with per-message deflate sized for a game's
frames: ``uvicorn --ws bench.websocket_protocol:CompactDeflateProtocol``.

A match socket sends many small frames that repeat each other (the same
keys, the same pointers, a chess position one move from the last). Deflate
keeps each socket's recent output as a window to refer back to, so those
repeats cost a few bytes: a 1 KiB window holds the last several frames, which
is where the repeats are. uvicorn's own setting keeps a 4 KiB window and
memLevel 5, about 36 KB more per socket than no compression (measured by
``manage.py loadtest``); this one costs a few KB and compresses a protocol 2
event as well (docs/performance.md). Clients that do not offer compression
get none.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

WINDOW_BITS = 10  # a 1 KiB window, ours and the client's
MEMORY_LEVEL = 1  # zlib's smallest hash table: frames are short


class CompactDeflateProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:
            deflate = ServerPerMessageDeflateFactory(
                server_max_window_bits=WINDOW_BITS,
                client_max_window_bits=WINDOW_BITS,
                compress_settings={"memLevel": MEMORY_LEVEL},
            )
            self.conn = ServerProtocol(extensions=[deflate], max_size=self.config.ws_max_size, logger=self.conn.logger)
