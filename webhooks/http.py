"""One attempt: posting a claimed delivery over HTTP(S) and reading the answer.

Each attempt resolves the endpoint's host again and refuses it unless every
address is permitted (:mod:`webhooks.addresses`), then connects to the very
address it checked, keeping the ``Host`` header and TLS (SNI and certificate
verification) on the hostname, so a DNS answer that changes after the check
cannot point the request elsewhere. Certificates are verified against
``WEBHOOKS_CA_BUNDLE`` when it is set, else against the default trust store.

Redirects are not followed. The whole attempt (resolving, connecting,
sending, the status line and headers, the excerpt of the body) has
``WEBHOOKS_TIMEOUT_SECONDS``: a deadline, not a per-read timeout, so a
receiver trickling a byte at a time cannot hold an attempt open. Once the
status line has arrived the status counts, even if the body then runs out of
time (a 2xx is a success whatever its body does). At most
:data:`~webhooks.delivery.EXCERPT_CHARS` bytes of the body are read. No
connection is kept alive: a pooled connection is keyed by address, and two
hostnames sharing an address must not share a TLS session.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import ssl
import time
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing, suppress
from datetime import datetime
from functools import cache
from typing import cast

import httpx
from django.conf import settings
from django.utils import timezone

from webhooks.addresses import IPAddress, RefusedURL, resolve
from webhooks.delivery import EXCERPT_CHARS, ClaimedDelivery, Outcome
from webhooks.signing import signature_headers

logger = logging.getLogger(__name__)

RESOLVER_THREADS = 8


@cache
def _resolver() -> ThreadPoolExecutor:
    """Threads of its own for resolving endpoints' hosts: a lookup outlives
    the attempt's timeout (a thread cannot be cancelled), so a slow DNS
    server ties up these threads only, never the event loop's default ones."""
    return ThreadPoolExecutor(max_workers=RESOLVER_THREADS, thread_name_prefix="webhooks-dns")


def trusted_certificates() -> ssl.SSLContext | bool:
    """What the server certificates are verified against: the PEM bundle of
    ``WEBHOOKS_CA_BUNDLE`` alone when set, else httpx's default (certifi)."""
    bundle = settings.WEBHOOKS_CA_BUNDLE
    return ssl.create_default_context(cafile=bundle) if bundle else True


def new_client() -> httpx.AsyncClient:
    """The HTTP client of one sender: no redirects, no proxies from the
    environment (they would bypass the address check), no kept-alive connections."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        verify=trusted_certificates(),
        timeout=httpx.Timeout(settings.WEBHOOKS_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
    )


# --- sending: up to the status line and headers ------------------------------------


async def _send_to(
    client: httpx.AsyncClient, url: httpx.URL, address: IPAddress, headers: dict[str, str], body: bytes
) -> httpx.Response:
    """Post ``body`` to ``url`` at ``address``: the connection goes to the
    address, while ``Host`` and TLS stay on the URL's hostname. Returns once
    the status line and headers have arrived, the body unread."""
    target = url.copy_with(host=str(address))
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    headers = {**headers, "host": url.netloc.decode("ascii"), "accept-encoding": "identity"}
    request = client.build_request("POST", target, content=body, headers=headers, extensions=extensions)
    return await client.send(request, stream=True)


async def _send(client: httpx.AsyncClient, claimed: ClaimedDelivery, at: datetime) -> httpx.Response:
    """Resolve, check and post; each permitted address in turn while
    connecting fails (but not past a certificate the sender refuses)."""
    addresses = await asyncio.get_running_loop().run_in_executor(_resolver(), resolve, claimed.url)
    url = httpx.URL(claimed.url)
    headers = signature_headers(claimed.message_id, at, claimed.body, claimed.secrets)
    body = claimed.body.encode()
    for address in addresses[:-1]:
        try:
            return await _send_to(client, url, address, headers, body)
        except httpx.ConnectError as problem:
            if _certificate_problem(problem) is not None:
                raise
    return await _send_to(client, url, addresses[-1], headers, body)


# --- reading: the excerpt of the body ------------------------------------------------


def _text(data: bytes) -> str:
    """The excerpt as text; a character cut by the bound is dropped, not replaced."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=False)


async def _read_excerpt(response: httpx.Response, deadline: float) -> tuple[str, str]:
    """At most the first :data:`EXCERPT_CHARS` bytes of the body, as sent
    (never decompressed), read until ``deadline`` (the event loop's clock);
    and an error when the body did not arrive (what did arrive is kept)."""
    data = bytearray()
    try:
        async with asyncio.timeout_at(deadline):
            chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())
            async with aclosing(chunks):
                async for chunk in chunks:
                    data += chunk
                    if len(data) >= EXCERPT_CHARS:
                        break
        error = ""
    except (TimeoutError, httpx.TimeoutException):
        error = f"the body timed out after {settings.WEBHOOKS_TIMEOUT_SECONDS:g} s"
    except (httpx.HTTPError, OSError) as problem:
        error = f"reading the body failed: {problem or type(problem).__name__}"
    except Exception as problem:
        logger.exception("reading a webhook answer from %s failed", response.request.url.host)
        error = f"reading the body failed: {type(problem).__name__}: {problem}"
    finally:
        with suppress(httpx.HTTPError, OSError):
            await response.aclose()
    return _text(bytes(data[:EXCERPT_CHARS])), error


# --- one attempt ------------------------------------------------------------------------


def _certificate_problem(problem: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind ``problem``, if any
    (httpx wraps the ``ssl`` error in its own exceptions)."""
    seen: set[int] = set()
    cause: BaseException | None = problem
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _error_of(problem: BaseException) -> str:
    """What an attempt that got no answer stores as its error."""
    if isinstance(problem, RefusedURL):
        return f"refused address: {problem}"
    if isinstance(problem, TimeoutError | httpx.TimeoutException):
        return f"timed out after {settings.WEBHOOKS_TIMEOUT_SECONDS:g} s"
    certificate = _certificate_problem(problem)
    if certificate is not None:
        return f"certificate refused: {certificate.verify_message or certificate}"
    if isinstance(problem, httpx.ConnectError):
        return f"connection failed: {problem or type(problem).__name__}"
    return f"{type(problem).__name__}: {problem}"


async def attempt(client: httpx.AsyncClient, claimed: ClaimedDelivery) -> Outcome:
    """Make one attempt of ``claimed``; whatever happens becomes an :class:`Outcome`."""
    at = timezone.now()
    started = time.monotonic()

    def elapsed_ms() -> int:
        return round((time.monotonic() - started) * 1000)

    if not claimed.secrets:
        return Outcome(at=at, duration_ms=0, error="the endpoint has no signing secret")
    deadline = asyncio.get_running_loop().time() + settings.WEBHOOKS_TIMEOUT_SECONDS
    try:
        async with asyncio.timeout_at(deadline):
            response = await _send(client, claimed, at)
    except (RefusedURL, TimeoutError, httpx.HTTPError, OSError) as problem:
        return Outcome(at=at, duration_ms=elapsed_ms(), error=_error_of(problem))
    except Exception as problem:
        logger.exception("webhook attempt of %s to endpoint %s failed", claimed.message_id, claimed.endpoint_id)
        return Outcome(at=at, duration_ms=elapsed_ms(), error=_error_of(problem))
    excerpt, error = await _read_excerpt(response, deadline)
    return Outcome(
        at=at,
        duration_ms=elapsed_ms(),
        status_code=response.status_code,
        excerpt=excerpt,
        error=error,
        retry_after=response.headers.get("retry-after"),
    )
