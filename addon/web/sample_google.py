"""The sample mailbox and calendar as Google's REST APIs, for the add-on's own Google client in development.

Only the calls the add-on makes are served, with Google's paths and answers, so the preview runs the
same code as production from request verification to the Calendar write.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, jsonify, request

from addon.devhost.samples import PREVIEW_EMAIL, PREVIEW_OAUTH_TOKEN, SampleWorkspace
from addon.web.json_body import BadBody, json_body

PREFIX = "/dev/google"
bp = Blueprint("sample_google", __name__, url_prefix=PREFIX)


def workspace() -> SampleWorkspace:
    return current_app.extensions["devhost"].workspace


@bp.get("/oauth2/v1/certs")
def certs() -> Response:
    response = jsonify(current_app.extensions["devhost"].identity.certs())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.before_request
def only_the_preview_user() -> Response | None:
    if request.path.endswith("/oauth2/v1/certs"):
        return None
    if request.headers.get("Authorization") != f"Bearer {PREVIEW_OAUTH_TOKEN}":
        return _error(401, "Request had invalid authentication credentials.")
    return None


@bp.get("/gmail/v1/users/me/messages/<message_id>")
def gmail_message(message_id: str) -> Response:
    message = workspace().messages.get(message_id)
    if message is None:
        return _error(404, "Requested entity was not found.")
    # As with the add-on scopes: nothing without the open message's own token, and headers only.
    if request.headers.get("X-Goog-Gmail-Access-Token") != message.access_token:
        return _error(403, "Request had insufficient authentication scopes.")
    if request.args.get("format") != "metadata":
        return _error(403, "Metadata scope doesn't allow format FULL")
    wanted = {name.lower() for name in request.args.getlist("metadataHeaders")}
    headers = [h for h in message.headers() if not wanted or h["name"].lower() in wanted]
    return jsonify(
        {
            "id": message.message_id,
            "threadId": "thread-" + message.message_id,
            "internalDate": str(int(message.sent.timestamp() * 1000)),
            "payload": {"mimeType": "text/plain", "headers": headers},
        }
    )


@bp.route("/calendar/v3/calendars/<calendar_id>/events", methods=["GET", "POST"])
def events(calendar_id: str) -> Response:
    calendar_id = _calendar(calendar_id)
    if request.method == "POST":
        try:
            body = json_body()
        except BadBody as error:
            return _error(error.status, error.reason)
        if not isinstance(body, dict) or not isinstance(body.get("start"), dict):
            return _error(400, "Missing start or end time.")
        event_id = str(body.get("id") or uuid.uuid4().hex)
        if workspace().event(calendar_id, event_id) is not None:
            return _error(409, "The requested identifier already exists.")
        stored = workspace().write(
            calendar_id, {**body, "id": event_id, "organizer": {"email": calendar_id, "self": True}}
        )
        return jsonify({"kind": "calendar#event", **stored})
    return _list(calendar_id)


@bp.route("/calendar/v3/calendars/<calendar_id>/events/<event_id>", methods=["GET", "PATCH"])
def event(calendar_id: str, event_id: str) -> Response:
    calendar_id = _calendar(calendar_id)
    current = workspace().event(calendar_id, event_id)
    if current is None:
        return _error(404, "Not Found")
    if request.method == "GET":
        return jsonify({"kind": "calendar#event", **current})
    try:
        patch = json_body()
    except BadBody as error:
        return _error(error.status, error.reason)
    if not isinstance(patch, dict):
        return _error(400, "Parse Error")
    edited = workspace().edit(calendar_id, event_id, patch)
    if edited is None:
        return _error(404, "Not Found")
    return jsonify({"kind": "calendar#event", **edited})


def _list(calendar_id: str) -> Response:
    """events.list as sync and the time-zone lookup use it: every change since the sync token."""
    since = 0
    token = request.args.get("syncToken")
    if token is not None:
        if not token.isdigit():
            return _error(410, "Sync token is no longer valid, a full sync is required.")
        since = int(token)
    changed, newest = workspace().changed_since(calendar_id, since)
    items = changed if token is not None else [e for e in changed if e.get("status") != "cancelled"]
    return jsonify(
        {
            "kind": "calendar#events",
            "timeZone": workspace().zone,
            "items": items,
            "nextSyncToken": str(newest),
        }
    )


def _calendar(calendar_id: str) -> str:
    return PREVIEW_EMAIL if calendar_id == "primary" else calendar_id


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": {"code": status, "message": message, "errors": [{"message": message}]}})
    response.status_code = status
    return response
