"""The local preview (development mode only): a page that shows the add-on's cards as the sidebar would.

The page picks a sample email or event; this module builds the event object Google would send, signs it
with the development key, and hands it to the add-on's own endpoint, so every click runs the real code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory

from addon import scopes
from addon.deployment import load_deployment
from addon.devhost.identity import DevIdentity
from addon.devhost.samples import PREVIEW_EMAIL, PREVIEW_NAME, PREVIEW_OAUTH_TOKEN, PREVIEW_SUB, SampleWorkspace
from addon.services import services
from cards.i18n import available_languages

bp = Blueprint("devhost", __name__)
STATIC = Path(__file__).resolve().parent.parent / "devhost" / "static"
# Where Google would send each trigger of deployment.json (a test keeps the two in step).
TRIGGER_PATHS = {
    ("GMAIL", "home"): "/gmail/home",
    ("GMAIL", "message"): "/gmail/message",
    ("CALENDAR", "home"): "/calendar/home",
    ("CALENDAR", "event"): "/calendar/event-open",
    ("CALENDAR", "saved"): "/calendar/event-update",
}


@dataclass
class DevHost:
    """What the preview keeps per process: its signing key and the sample mailbox and calendar."""

    identity: DevIdentity
    workspace: SampleWorkspace


@bp.get("/")
@bp.get("/preview")
def page() -> Response:
    return send_from_directory(STATIC, "preview.html")


@bp.get("/preview/static/<path:name>")
def asset(name: str) -> Response:
    return send_from_directory(STATIC, name)


@bp.get("/preview/api/samples")
def samples() -> Response:
    """The sample emails and events to open, and the add-on's universal actions."""
    workspace = _host().workspace
    actions = load_deployment()["addOns"]["common"].get("universalActions", [])
    base = services().settings.base_url
    return jsonify(
        {
            "user": {"email": PREVIEW_EMAIL, "name": PREVIEW_NAME},
            "locales": sorted(available_languages()),
            "messages": [
                {"id": m.message_id, "subject": m.subject, "from": m.sender, "sent": m.sent.isoformat()}
                for m in sorted(workspace.messages.values(), key=lambda m: m.sent, reverse=True)
            ],
            "events": [
                {
                    "calendarId": PREVIEW_EMAIL,
                    "id": e["id"],
                    "title": e.get("summary") or "(no title)",
                    "start": (e.get("start") or {}).get("dateTime"),
                    "repeats": bool(e.get("recurrence")),
                }
                for e in workspace.upcoming(PREVIEW_EMAIL)
            ],
            "universalActions": [{"label": a["label"], "function": base + _path_of(a["runFunction"])} for a in actions],
        }
    )


@bp.post("/preview/api/open")
def open_trigger() -> Response:
    """Run a trigger as Google would when the user opens the add-on, an email or an event (or saves one)."""
    context = request.get_json(silent=True)
    if not isinstance(context, dict):
        return _bad("send a JSON object")
    path = TRIGGER_PATHS.get((str(context.get("host")), str(context.get("trigger"))))
    if path is None:
        return _bad("unknown host or trigger")
    return _dispatch(path, context, None, None)


@bp.post("/preview/api/invoke")
def invoke() -> Response:
    """Run a card action (a button, a form submit) with the inputs the page collected."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("function"), str):
        return _bad("send {function, parameters, formInputs, context}")
    base = services().settings.base_url
    function = body["function"]
    if not function.startswith(base + "/"):
        return _bad("the preview only calls this add-on's own actions")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    form_inputs = body.get("formInputs") if isinstance(body.get("formInputs"), dict) else {}
    context = body.get("context") if isinstance(body.get("context"), dict) else {}
    return _dispatch(function[len(base) :], context, parameters, form_inputs)


def _dispatch(path: str, context: dict, parameters: dict | None, form_inputs: dict | None) -> Response:
    settings = services().settings
    path_only = path.split("?", 1)[0]
    event = _event_object(context, parameters, form_inputs)
    token = _host().identity.system_token(settings.base_url + path_only, settings.service_account_email)
    answer = current_app.test_client().post(path, json=event, headers={"Authorization": f"Bearer {token}"})
    body = answer.get_json(silent=True)
    return jsonify({"status": answer.status_code, "body": body if body is not None else answer.get_data(as_text=True)})


def _event_object(context: dict, parameters: dict | None, form_inputs: dict | None) -> dict[str, Any]:
    """The event object Google sends, for the preview user with every scope granted."""
    settings = services().settings
    host = "CALENDAR" if context.get("host") == "CALENDAR" else "GMAIL"
    zone = _zone(context.get("timeZone"))
    locale = str(context.get("locale") or "en")
    offset = datetime.now(zone).utcoffset()
    common: dict[str, Any] = {
        "hostApp": host,
        "platform": "WEB",
        "userLocale": locale,
        "timeZone": {"id": zone.key, "offset": int(offset.total_seconds() * 1000) if offset else 0},
    }
    if parameters:
        common["parameters"] = {str(k): str(v) for k, v in parameters.items()}
    if form_inputs:
        common["formInputs"] = form_inputs
    identity = _host().identity
    event: dict[str, Any] = {
        "commonEventObject": common,
        "authorizationEventObject": {
            "userOAuthToken": PREVIEW_OAUTH_TOKEN,
            "userIdToken": identity.user_token(settings.oauth_client_id, PREVIEW_SUB, PREVIEW_EMAIL),
            "authorizedScopes": sorted(scopes.ALL),
        },
    }
    message = _host().workspace.messages.get(str(context.get("messageId")))
    if host == "GMAIL" and message is not None:
        event["gmail"] = {
            "messageId": message.message_id,
            "threadId": "thread-" + message.message_id,
            "accessToken": message.access_token,
        }
    if host == "CALENDAR" and context.get("eventId"):
        event["calendar"] = _calendar_part(str(context.get("calendarId") or PREVIEW_EMAIL), str(context["eventId"]))
    return event


def _calendar_part(calendar_id: str, event_id: str) -> dict[str, Any]:
    stored = _host().workspace.event(calendar_id, event_id) or {}
    part: dict[str, Any] = {
        "calendarId": calendar_id,
        "id": event_id,
        "organizer": {"email": calendar_id},
        "capabilities": {
            "canSeeAttendees": True,
            "canAddAttendees": True,
            "canSeeConferenceData": True,
            "canSetConferenceData": True,
        },
        "attendees": [a for a in stored.get("attendees", []) if isinstance(a, dict) and a.get("email")],
    }
    if stored.get("recurringEventId"):
        part["recurringEventId"] = stored["recurringEventId"]
    if isinstance(stored.get("conferenceData"), dict):
        part["conferenceData"] = stored["conferenceData"]
    return part


def _zone(name: object) -> ZoneInfo:
    try:
        return ZoneInfo(str(name)) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _path_of(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1]


def _host() -> DevHost:
    return current_app.extensions["devhost"]


def _bad(reason: str) -> Response:
    response = jsonify({"error": reason})
    response.status_code = 400
    return response
