"""The staff-only endpoints of the outgoing webhooks (filled in by the staff API work)."""

from __future__ import annotations

from ninja import Router

router = Router()
