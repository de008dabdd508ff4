"""Liveness, readiness and App Engine warmup: no Google verification, no user data."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from addon.security import CertsUnavailable
from addon.store import StoreUnavailable, UserSettings
from addon.store.availability import RETRY_AFTER_SECONDS
from addon.web.current import current_services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> dict:
    """Liveness: the process answers. Never asks the store, so a store outage restarts nothing."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 503 while the store does not answer, told by its recent calls or by a read at most every
    few seconds (addon/store/availability.py); a probe while its breaker is open reads nothing."""
    if current_services().store.ready():
        return jsonify({"status": "ok", "store": "ok"})
    response = jsonify({"status": "unavailable", "store": "not answering"})
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/_ah/warmup")
def warmup() -> dict:
    """Pay before live traffic for what the first request would: Google's keys and the store's channel."""
    services = current_services()
    try:
        services.certs.key("warmup")
    except CertsUnavailable as error:
        log.warning("warmup could not fetch Google's keys: %s", error)
    try:
        services.store.get(UserSettings, "warmup")
    except StoreUnavailable as error:
        log.warning("warmup could not reach the store: %s", error)
    return {"status": "warm"}
