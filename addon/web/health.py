"""Liveness and App Engine warmup: no Google verification, no user data."""

from __future__ import annotations

import logging

from flask import Blueprint

from addon.security import CertsUnavailable
from addon.store import UserSettings
from addon.web.current import current_services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@bp.get("/_ah/warmup")
def warmup() -> dict:
    """Pay before live traffic for what the first request would: Google's keys and the store's channel."""
    services = current_services()
    try:
        services.certs.key("warmup")
    except CertsUnavailable as error:
        log.warning("warmup could not fetch Google's keys: %s", error)
    services.store.get(UserSettings, "warmup")
    return {"status": "warm"}
