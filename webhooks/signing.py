"""The headers of one attempt, signed per Standard Webhooks.

``webhook-id`` is the message's id, the same on every retry, so receivers can
deduplicate; ``webhook-timestamp`` is the attempt's own time (receivers
refuse timestamps more than five minutes away from their clock, so a retry
hours later must not carry the message's original time); ``webhook-signature``
holds one ``v1,<base64>`` signature per live secret of the endpoint, so a
receiver holding either the old or the new secret during a rotation verifies.
"""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks import Webhook

USER_AGENT = "game-backend-webhooks/1.0"


def _utc_seconds(timestamp: datetime | int) -> datetime:
    """The timestamp as a whole-second UTC datetime (what the header carries).
    The package signs ``timestamp.replace(tzinfo=UTC)``, so an aware time in
    another zone must be converted first, not relabelled."""
    seconds = timestamp if isinstance(timestamp, int) else int(timestamp.timestamp())
    return datetime.fromtimestamp(seconds, tz=UTC)


def sign(message_id: str, timestamp: datetime | int, body: str, secrets: list[str]) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated."""
    moment = _utc_seconds(timestamp)
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)


def signature_headers(message_id: str, timestamp: datetime | int, body: str, secrets: list[str]) -> dict[str, str]:
    """Every header an attempt sends besides ``host``."""
    if not secrets:
        raise ValueError("an endpoint needs a signing secret")
    moment = _utc_seconds(timestamp)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": sign(message_id, moment, body, secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
