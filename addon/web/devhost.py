"""The local preview (development mode only): a page that shows the add-on's cards as the sidebar would.

The page picks a sample email or event; this module builds the event object Google would send, signs it
with the development key, and hands it to the add-on's own endpoint, so every click runs the real code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, current_app, jsonify, send_from_directory

from addon import scopes
from addon.deployment import load_deployment
from addon.devhost.identity import DevIdentity
from addon.devhost.samples import PREVIEW_EMAIL, PREVIEW_NAME, PREVIEW_OAUTH_TOKEN, PREVIEW_SUB, SampleWorkspace
from addon.web.current import current_services
from addon.web.json_body import BadBody, json_body
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
# What the page's event editor may change, and the longest event it may make (a week).
EDITABLE = frozenset({"calendarId", "title", "startMs", "minutes"})
MAX_MINUTES = 7 * 24 * 60


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
    # Browsers run a module script only if it comes as JavaScript, and some machines' MIME tables say otherwise.
    return send_from_directory(STATIC, name, mimetype="text/javascript" if name.endswith(".js") else None)


@bp.get("/preview/api/samples")
def samples() -> Response:
    """The sample emails and events to open, and the add-on's universal actions."""
    workspace = _host().workspace
    actions = load_deployment()["addOns"]["common"].get("universalActions", [])
    base = current_services().settings.base_url
    return jsonify(
        {
            "user": {"email": PREVIEW_EMAIL, "name": PREVIEW_NAME},
            "locales": sorted(available_languages()),
            "messages": [
                {"id": m.message_id, "subject": m.subject, "from": m.sender, "sent": m.sent.isoformat()}
                for m in sorted(workspace.messages.values(), key=lambda m: m.sent, reverse=True)
            ],
            "events": [_listed(PREVIEW_EMAIL, e) for e in workspace.upcoming(PREVIEW_EMAIL)],
            "universalActions": [{"label": a["label"], "function": base + _path_of(a["runFunction"])} for a in actions],
        }
    )


@bp.post("/preview/api/open")
def open_trigger() -> Response:
    """Run a trigger as Google would when the user opens the add-on, an email or an event (or saves one)."""
    try:
        context = json_body()
    except BadBody as error:
        return _bad(error.reason, error.status)
    if not isinstance(context, dict):
        return _bad("send a JSON object")
    path = TRIGGER_PATHS.get((str(context.get("host")), str(context.get("trigger"))))
    if path is None:
        return _bad("unknown host or trigger")
    return _dispatch(path, context, None, None)


@bp.post("/preview/api/invoke")
def invoke() -> Response:
    """Run a card action (a button, a form submit) with the inputs the page collected."""
    try:
        body = json_body()
    except BadBody as error:
        return _bad(error.reason, error.status)
    if not isinstance(body, dict) or not isinstance(body.get("function"), str):
        return _bad("send {function, parameters, formInputs, context}")
    base = current_services().settings.base_url
    function = body["function"]
    if not function.startswith(base + "/"):
        return _bad("the preview only calls this add-on's own actions")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    form_inputs = body.get("formInputs") if isinstance(body.get("formInputs"), dict) else {}
    context = body.get("context") if isinstance(body.get("context"), dict) else {}
    return _dispatch(function[len(base) :], context, parameters, form_inputs)


@bp.post("/preview/api/events/<event_id>")
def edit_event(event_id: str) -> Response:
    """Change a sample event's title or time as the user would in Calendar's editor, before they save it."""
    try:
        body = json_body()
    except BadBody as error:
        return _bad(error.reason, error.status)
    if not isinstance(body, dict):
        return _bad("send a JSON object")
    calendar_id = body.get("calendarId", PREVIEW_EMAIL)
    if not isinstance(calendar_id, str):
        return _bad("calendarId must be a string")
    workspace = _host().workspace
    current = workspace.event(calendar_id, event_id)
    if current is None or current.get("status") == "cancelled":
        return _bad("no such event", 404)
    changes = _editor_changes(current, body, workspace.zone)
    if isinstance(changes, str):
        return _bad(changes)
    edited = workspace.edit(calendar_id, event_id, changes)
    if edited is None:
        return _bad("no such event", 404)
    return jsonify(_listed(calendar_id, edited))


def _editor_changes(current: dict[str, Any], body: dict[str, Any], default_zone: str) -> dict[str, Any] | str:
    """The patch Calendar's editor would make from the page's fields, or why the fields are wrong."""
    unknown = sorted(set(body) - EDITABLE)
    if unknown:
        return f"unknown field {unknown[0]!r}: send title, startMs or minutes"
    changes: dict[str, Any] = {}
    if "title" in body:
        if not isinstance(body["title"], str):
            return "title must be a string"
        # Calendar keeps no blank title: the event becomes "(No title)".
        changes["summary"] = body["title"].strip() or None
    start_ms, minutes = body.get("startMs"), body.get("minutes")
    if start_ms is not None and not _whole_number(start_ms):
        return "startMs must be a whole number of milliseconds since the epoch"
    if minutes is not None and not (_whole_number(minutes) and 1 <= minutes <= MAX_MINUTES):
        return f"minutes must be a whole number from 1 to {MAX_MINUTES}"
    if start_ms is not None or minutes is not None:
        times = _event_times(current, start_ms, minutes, default_zone)
        if isinstance(times, str):
            return times
        changes.update(times)
    return changes or "nothing to change: send title, startMs or minutes"


def _event_times(
    current: dict[str, Any], start_ms: int | None, minutes: int | None, default_zone: str
) -> dict[str, Any] | str:
    """New start and end in the event's own time zone; what is not given keeps its value (or length)."""
    start, end = (part if isinstance(part := current.get(key), dict) else {} for key in ("start", "end"))
    if not isinstance(start.get("dateTime"), str):
        return "an all-day event has no time to change here"
    zone = _zone(start.get("timeZone") or default_zone)
    try:
        old_start = _aware(datetime.fromisoformat(start["dateTime"]), zone)
        old_end = _aware(datetime.fromisoformat(str(end.get("dateTime"))), zone)
    except ValueError:
        if start_ms is None or minutes is None:
            return "the event's time cannot be read: send both startMs and minutes"
        old_start = old_end = datetime.now(zone)
    try:
        begin = datetime.fromtimestamp(start_ms // 1000, zone) if start_ms is not None else old_start.astimezone(zone)
        finish = begin + (timedelta(minutes=minutes) if minutes is not None else old_end - old_start)
    except (OverflowError, OSError, ValueError):
        return "startMs is out of range"
    return {
        "start": {"dateTime": begin.isoformat(), "timeZone": zone.key},
        "end": {"dateTime": finish.astimezone(zone).isoformat(), "timeZone": zone.key},
    }


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _aware(moment: datetime, zone: tzinfo) -> datetime:
    # Calendar may store a local time without an offset, next to its time zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _listed(calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """An event as the page lists it and prefills its editor."""
    return {
        "calendarId": calendar_id,
        "id": event["id"],
        "title": event.get("summary") or "",
        "start": (event.get("start") or {}).get("dateTime"),
        "end": (event.get("end") or {}).get("dateTime"),
        "repeats": bool(event.get("recurrence")),
    }


def _dispatch(path: str, context: dict, parameters: dict | None, form_inputs: dict | None) -> Response:
    settings = current_services().settings
    path_only = path.split("?", 1)[0]
    event = _event_object(context, parameters, form_inputs)
    token = _host().identity.system_token(settings.base_url + path_only, settings.service_account_email)
    answer = current_app.test_client().post(path, json=event, headers={"Authorization": f"Bearer {token}"})
    body = answer.get_json(silent=True)
    return jsonify({"status": answer.status_code, "body": body if body is not None else answer.get_data(as_text=True)})


def _event_object(context: dict, parameters: dict | None, form_inputs: dict | None) -> dict[str, Any]:
    """The event object Google sends, for the preview user with every scope granted."""
    settings = current_services().settings
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


def _bad(reason: str, status: int = 400) -> Response:
    response = jsonify({"error": reason})
    response.status_code = status
    return response
