"""Where an endpoint may point: the guard that keeps an endpoint from being
turned against the server's own network (SSRF).

A URL is refused when its host resolves to any address that is not public
(private, loopback, link-local, multicast, reserved, unspecified, shared or
IPv4-mapped versions of those), unless the address is inside one of
``WEBHOOKS_ALLOWED_NETWORKS``. Plain ``http`` needs ``WEBHOOKS_ALLOW_HTTP``.
The check runs when staff save an endpoint and again before every attempt,
and the attempt connects to the very address that was checked (so a DNS
answer that changes between the check and the connection cannot sneak in).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(ValueError):
    """The URL may not be an endpoint; the message says why."""


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network, strict=False) for network in settings.WEBHOOKS_ALLOWED_NETWORKS]


# IPv6 ranges whose last 32 bits are an IPv4 address a gateway or the host
# may reach (NAT64, IPv4-compatible, IPv4-translated).
_LAST_32_BITS_IPV4 = [
    ipaddress.ip_network(network) for network in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
]
# Deprecated site-local addresses, which Python still calls global.
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo,
    NAT64 and the like): reaching it may reach them."""
    found = [inner for inner in (address.ipv4_mapped, address.sixtofour) if inner is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if any(address in network for network in _LAST_32_BITS_IPV4):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_permitted(address: IPAddress) -> bool:
    """A public address (and every IPv4 address it carries public too), or
    one inside an allowed network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed_networks()):
        return True
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return address not in _SITE_LOCAL and all(is_permitted(inner) for inner in embedded_ipv4(address))
    return True


def check_scheme(url: str) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or :class:`RefusedURL`."""
    if any(ord(character) <= 0x20 or ord(character) == 0x7F for character in url):
        raise RefusedURL("an endpoint URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as problem:
        raise RefusedURL(f"not a valid URL: {problem}") from None
    if parts.scheme not in ("https", "http"):
        raise RefusedURL("an endpoint URL starts with https://")
    if parts.scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise RefusedURL("an endpoint URL must use https (WEBHOOKS_ALLOW_HTTP is off)")
    if not parts.hostname:
        raise RefusedURL("an endpoint URL needs a host")
    if parts.username or parts.password:
        raise RefusedURL("an endpoint URL may not carry credentials")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str) -> list[IPAddress]:
    """Every address the URL's host resolves to, all of them permitted, or
    :class:`RefusedURL` (the host does not resolve, or one address is not
    permitted: a host with one private address among public ones is refused)."""
    _scheme, host, port = check_scheme(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as problem:
        raise RefusedURL(f"the host {host!r} does not resolve: {problem}") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    refused = [address for address in addresses if not is_permitted(address)]
    if refused:
        raise RefusedURL(
            f"the host {host!r} resolves to {refused[0]}, which is not a public address "
            "(allow its network with WEBHOOKS_ALLOWED_NETWORKS)"
        )
    return addresses


def check_url(url: str) -> None:
    """Raise :class:`RefusedURL` unless ``url`` may be an endpoint now."""
    resolve(url)
