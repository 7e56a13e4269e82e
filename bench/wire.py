"""Exact bytes on the wire, counted from what the clients sent and received.

Only the application layer: TCP/IP headers, TLS and the TCP handshake are
left out, the same for both ways of following a match.
"""

from __future__ import annotations

import httpx


def ws_frame_bytes(text: str) -> int:
    """A text frame from the server: unmasked, uncompressed (the benchmark's
    sockets negotiate no permessage-deflate), not fragmented."""
    payload = len(text.encode())
    if payload < 126:
        header = 2
    elif payload < 65536:
        header = 4
    else:
        header = 10
    return header + payload


def _header_block(raw: list[tuple[bytes, bytes]]) -> int:
    """Each "Name: value\\r\\n", then the blank line that ends the block."""
    return sum(len(name) + 2 + len(value) + 2 for name, value in raw) + 2


def http_exchange_bytes(response: httpx.Response) -> int:
    """One HTTP/1.1 request and its answer, both directions, as sent and
    received: request line, the headers httpx actually sent, request body,
    status line, the response headers as received and the body as it came
    (before any content decoding)."""
    request = response.request
    request_line = len(request.method) + 1 + len(request.url.raw_path) + len(" HTTP/1.1\r\n")
    sent = request_line + _header_block(request.headers.raw) + len(request.content)
    reason = response.extensions.get("reason_phrase") or response.reason_phrase.encode()
    status_line = len(response.http_version) + 1 + 3 + 1 + len(reason) + 2
    # The body's bytes as read off the socket (compressed, if it was).
    return sent + status_line + _header_block(response.headers.raw) + response.num_bytes_downloaded
