"""Calendar push notifications: checked against the channel's secret, answered at once, synced afterwards."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, request

from addon.store import WatchChannel
from addon.sync import HOOK_PATH, token_hash
from addon.web.current import current_services, current_syncer

bp = Blueprint("hooks", __name__)
log = logging.getLogger(__name__)


@bp.post(HOOK_PATH)
def calendar_changed() -> Response:
    """Google says a watched calendar changed (or, state "sync", that a channel now exists)."""
    services = current_services()
    channel_id = request.headers.get("X-Goog-Channel-ID", "")
    secret = request.headers.get("X-Goog-Channel-Token", "")
    state = request.headers.get("X-Goog-Resource-State", "")
    if not channel_id or not secret or len(channel_id) > 64 or len(secret) > 256:
        return _answer(401)
    channel = services.store.get(WatchChannel, channel_id)
    if channel is None and state == "sync":
        # Calendar may announce a new channel before its watch call has answered and the channel is stored.
        return _answer(200)
    # Unknown, expired and forged look alike to the sender: nothing to act on.
    if channel is None or not hmac.compare_digest(channel.token_hash, token_hash(secret)):
        log.warning("refused a calendar notification for an unknown channel or with a wrong token")
        return _answer(401)
    if request.headers.get("X-Goog-Resource-ID") not in (None, channel.resource_id):
        return _answer(401)
    if state == "exists":
        # Repeats and bursts fold into one queued sync per calendar; the work follows the answer.
        current_syncer().submit(channel.sync_id)
    return _answer(200)


def _answer(status: int) -> Response:
    return Response(status=status)
