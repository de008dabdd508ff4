"""Periodic work, called by App Engine cron or Cloud Scheduler: renew push channels, reconcile, purge."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from addon.security import CertsUnavailable, Unauthorized, bearer_token, request_audiences, verify_id_token
from addon.services import Services
from addon.store import AuditRecord, MeetingLink, OAuthState, PendingCreate, PendingDeletion, WatchChannel
from addon.web.current import current_services, current_syncer

bp = Blueprint("tasks", __name__)
log = logging.getLogger(__name__)

# App Engine ends a cron request after 10 minutes; stop starting new work well before that.
BUDGET_SECONDS = 8 * 60
PURGED_KINDS = (MeetingLink, AuditRecord, OAuthState, WatchChannel, PendingDeletion, PendingCreate)


def scheduled(handler: Callable[[Services, float], dict]) -> Callable[[], Response]:
    """Only the scheduler may start a task: App Engine's cron header, or Cloud Scheduler's OIDC token."""

    def endpoint() -> Response:
        services = current_services()
        if not _from_scheduler(services):
            response = jsonify({"error": "unauthorized"})
            response.status_code = 401
            return response
        deadline = time.monotonic() + BUDGET_SECONDS
        result = handler(services, deadline)
        log.info("task %s done", request.path, extra={"task": result})
        return jsonify(result)

    endpoint.__name__ = handler.__name__
    return endpoint


def _from_scheduler(services: Services) -> bool:
    settings = services.settings
    # App Engine removes X-Appengine-* headers from requests that come from outside, so there it is proof.
    if settings.app_engine and request.headers.get("X-Appengine-Cron") == "true":
        return True
    if not settings.cron_service_account:
        return False
    try:
        claims = verify_id_token(
            bearer_token(request.headers.get("Authorization")),
            services.certs,
            request_audiences(settings.base_url, request.path, request.query_string.decode()),
        )
    except (Unauthorized, CertsUnavailable) as error:
        log.warning("refused a task request: %s", error)
        return False
    return claims.get("email") == settings.cron_service_account and claims.get("email_verified") in (True, "true")


def renew_channels(services: Services, deadline: float) -> dict:
    return {"renewed": current_syncer().renew_channels(deadline)}


def reconcile(services: Services, deadline: float) -> dict:
    syncer = current_syncer()
    deleted, ghosts = syncer.sweep_deletions(), syncer.sweep_ghosts()
    return {"synced": syncer.reconcile_all(deadline), "deleted": deleted, "left_behind_deleted": ghosts}


def purge(services: Services, deadline: float) -> dict:
    purged = {}
    for kind in PURGED_KINDS:
        count = 0
        while time.monotonic() < deadline:
            batch = services.store.purge_expired(kind)
            count += batch
            if batch == 0:
                break
        purged[kind.KIND] = count
    return {"purged": purged}


def sync_calendar(services: Services, deadline: float) -> dict:
    """One calendar's sync, queued on Cloud Tasks by a notification (addon/tasks.py CloudTasks)."""
    sync_id = request.args.get("calendar", "")
    report = current_syncer().sync(sync_id) if sync_id else None
    return {"outcome": report.outcome if report else "nothing to do"}


def delete_when_due(services: Services, deadline: float) -> dict:
    """A deleted event's grace period ended (a task queued for that moment): its meeting goes, unless it came back."""
    link_id = request.args.get("link", "")
    return {"deleted": int(current_syncer().deletions.due(link_id)) if link_id else 0}


bp.add_url_rule("/tasks/sync", view_func=scheduled(sync_calendar), methods=["POST"])
bp.add_url_rule("/tasks/sweep", view_func=scheduled(delete_when_due), methods=["POST"])

for _name, _handler in (("renew-channels", renew_channels), ("reconcile", reconcile), ("purge", purge)):
    bp.add_url_rule(f"/tasks/{_name}", view_func=scheduled(_handler), methods=["GET", "POST"])
