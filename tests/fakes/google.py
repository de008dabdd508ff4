"""A fake of the Google endpoints the add-on calls, served over real HTTP on 127.0.0.1.

It insists on what the real APIs insist on: a known bearer token, the per-message Gmail token,
format=metadata for a metadata-scoped read; and it can be told to fail or stall.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import ServedFake, json_response
from tests.fakes.identity import SigningKey


@dataclass
class Failure:
    status: int
    times: int
    body: dict[str, Any] | None = None
    method: str | None = None
    # The request takes effect; only its answer is replaced by the failure (a lost answer).
    applied: bool = False


@dataclass
class FakeMessage:
    message_id: str
    access_token: str
    headers: list[tuple[str, str]]
    internal_date_ms: int = 1_767_261_600_000


@dataclass
class FakeGoogleState:
    messages: dict[str, FakeMessage] = field(default_factory=dict)
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    user_tokens: set[str] = field(default_factory=set)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    delay_seconds: dict[str, float] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    cert_fetches: int = 0
    certs_max_age: int = 3600
    certs_status: int = 200
    # Whether Calendar takes conferenceData of type addOn from this add-on (HTTP add-ons: unconfirmed).
    accept_addon_conferences: bool = False
    # Each calendar's own zone, as events.list reports it ("primary" is the user's main calendar).
    calendar_zones: dict[str, str] = field(default_factory=dict)
    # Custom-schema fields of directory users, by email: {"Webex": {"SiteURL": "acme.webex.com"}}.
    directory: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)


class FakeGoogle(ServedFake):
    """Gmail messages.get, Calendar events.get and the OAuth2 certs endpoint."""

    def __init__(self) -> None:
        self.key = SigningKey("fake-key-1")
        self.extra_keys: list[SigningKey] = []
        self.state = FakeGoogleState()
        self._lock = threading.Lock()
        super().__init__()

    @property
    def certs_url(self) -> str:
        return self.url + "/oauth2/v1/certs"

    def use_tls(self, context: ssl.SSLContext) -> None:
        """Serve https instead of http (call before start)."""
        self._server.use_tls(context)
        self.url = self.url.replace("http://", "https://", 1)

    def reset(self) -> None:
        with self._lock:
            self.state = FakeGoogleState()
            self.extra_keys = []

    # Arranging -----------------------------------------------------------------------------

    def add_user_token(self, token: str) -> None:
        self.state.user_tokens.add(token)

    def add_message(self, message: FakeMessage) -> None:
        self.state.messages[message.message_id] = message

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> None:
        self.state.events[(calendar_id, event["id"])] = event

    def fail(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        body: dict[str, Any] | None = None,
        method: str | None = None,
        applied: bool = False,
    ) -> None:
        """The next `times` requests under `path_prefix` (with `method`, if given) answer `status`."""
        self.state.failures.setdefault(path_prefix, []).append(Failure(status, times, body, method, applied))

    def stall(self, path_prefix: str, seconds: float) -> None:
        self.state.delay_seconds[path_prefix] = seconds

    def requests_to(self, path_prefix: str) -> list[Request]:
        return [r for r in self.state.requests if r.path.startswith(path_prefix)]

    # Serving -------------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()
        with self._lock:
            self.state.requests.append(request)
        return self._route(request)(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        for prefix, seconds in self.state.delay_seconds.items():
            if path.startswith(prefix):
                time.sleep(seconds)
        if path == "/oauth2/v1/certs":
            return self._certs()
        failure = self._scripted_failure(path, request.method)
        if failure is not None:
            scripted, applied = failure
            if applied:
                self._handle(request, path)
            return scripted
        return self._handle(request, path)

    def _handle(self, request: Request, path: str) -> Response:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:3] == ["gmail", "v1", "users"] and len(parts) == 6 and parts[4] == "messages":
            return self._authorized(request) or self._gmail_message(request, parts[3], parts[5])
        if parts[:4] == ["admin", "directory", "v1", "users"] and len(parts) == 5 and request.method == "GET":
            return self._authorized(request) or self._directory_user(request, parts[4])
        if parts[:3] == ["calendar", "v3", "calendars"] and len(parts) in (5, 6) and parts[4] == "events":
            denied = self._authorized(request)
            if denied is not None:
                return denied
            if len(parts) == 5 and request.method == "POST":
                return self._insert_event(request, parts[3])
            if len(parts) == 5 and request.method == "GET":
                return self._list_events(parts[3])
            if len(parts) == 6 and request.method == "PATCH":
                return self._patch_event(request, parts[3], parts[5])
            if len(parts) == 6 and request.method == "GET":
                return self._calendar_event(parts[3], parts[5])
            return _error(405, "Method not allowed", "badRequest")
        return _error(404, "Not Found", "notFound")

    def _directory_user(self, request: Request, user_key: str) -> Response:
        """users.get as a domain user may call it: only the domain_public view, custom fields by schema."""
        record = self.state.directory.get(user_key.lower())
        if record is None:
            return _error(404, "Resource Not Found: userKey", "notFound")
        if request.args.get("viewType") != "domain_public":
            return _error(403, "Not Authorized to access this resource/api", "forbidden")
        answer = {"primaryEmail": user_key.lower()}
        if request.args.get("projection") == "custom":
            wanted = set(request.args.get("customFieldMask", "").split(","))
            answer["customSchemas"] = {k: v for k, v in record.items() if k in wanted}
        return json_response(answer)

    def _list_events(self, calendar_id: str) -> Response:
        """events.list, as far as the add-on uses it: the calendar's own time zone."""
        zone = self.state.calendar_zones.get(calendar_id, "UTC")
        items = [e for (calendar, _), e in self.state.events.items() if calendar == calendar_id]
        return json_response({"kind": "calendar#events", "timeZone": zone, "items": items[:1]})

    def _insert_event(self, request: Request, calendar_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), dict) for k in ("start", "end")):
            return _error(400, "Missing start or end time.", "required")
        event_id = body.get("id") or uuid.uuid4().hex
        # Client-chosen ids are base32hex: lowercase a-v and digits, 5 to 1024 characters.
        if not re.fullmatch(r"[a-v0-9]{5,1024}", str(event_id)):
            return _error(400, "Invalid resource id value.", "invalid")
        problem = self._conference_problem(request, body)
        if problem is not None:
            return problem
        with self._lock:
            if (calendar_id, event_id) in self.state.events:
                return _error(409, "The requested identifier already exists.", "duplicate")
            event = {
                **_without_conference_unless_versioned(request, body),
                "id": event_id,
                "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
                "organizer": {"email": calendar_id, "self": True},
            }
            self.state.events[(calendar_id, event_id)] = event
        return json_response({"kind": "calendar#event", "status": "confirmed", **event})

    def _patch_event(self, request: Request, calendar_id: str, event_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "Parse Error", "parseError")
        problem = self._conference_problem(request, body)
        if problem is not None:
            return problem
        with self._lock:
            event = self.state.events.get((calendar_id, event_id))
            if event is None:
                return _error(404, "Not Found", "notFound")
            merged = _merge(event, _without_conference_unless_versioned(request, body))
            self.state.events[(calendar_id, event_id)] = merged
        return json_response({"kind": "calendar#event", "status": "confirmed", **merged})

    def _conference_problem(self, request: Request, body: dict[str, Any]) -> Response | None:
        """Third-party conferences: Calendar accepts `addOn` solutions only from add-ons allowed to make them."""
        conference = body.get("conferenceData")
        if request.args.get("conferenceDataVersion") != "1" or not isinstance(conference, dict):
            return None
        kind = ((conference.get("conferenceSolution") or {}).get("key") or {}).get("type")
        if kind == "addOn" and not self.state.accept_addon_conferences:
            return _error(400, "Invalid conference type value.", "invalid")
        return None

    def _certs(self) -> Response:
        with self._lock:
            self.state.cert_fetches += 1
        if self.state.certs_status != 200:
            return _error(self.state.certs_status, "unavailable", "backendError")
        keys = {k.kid: k.certificate_pem for k in (self.key, *self.extra_keys)}
        response = json_response(keys)
        response.headers["Cache-Control"] = f"public, max-age={self.state.certs_max_age}, must-revalidate, no-transform"
        return response

    def _scripted_failure(self, path: str, method: str) -> tuple[Response, bool] | None:
        with self._lock:
            for prefix, failures in self.state.failures.items():
                if path.startswith(prefix) and failures and failures[0].method in (None, method):
                    failure = failures[0]
                    failure.times -= 1
                    if failure.times <= 0:
                        failures.pop(0)
                    body = failure.body or _error_body(failure.status, "scripted failure", "backendError")
                    return json_response(body, failure.status), failure.applied
        return None

    def _authorized(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.state.user_tokens:
            return _error(401, "Request had invalid authentication credentials.", "authError")
        return None

    def _gmail_message(self, request: Request, user_id: str, message_id: str) -> Response:
        message = self.state.messages.get(message_id)
        if user_id != "me" or message is None:
            return _error(404, "Requested entity was not found.", "notFound")
        # Without the per-message token the add-on scopes grant nothing.
        if request.headers.get("X-Goog-Gmail-Access-Token") != message.access_token:
            return _error(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        if request.args.get("format") != "metadata":
            return _error(403, "Metadata scope doesn't allow format FULL", "forbidden")
        wanted = {h.lower() for h in request.args.getlist("metadataHeaders")}
        headers = [{"name": n, "value": v} for n, v in message.headers if not wanted or n.lower() in wanted]
        return json_response(
            {
                "id": message_id,
                "threadId": "thread-" + message_id,
                "labelIds": ["INBOX"],
                "internalDate": str(message.internal_date_ms),
                "payload": {"mimeType": "multipart/alternative", "headers": headers},
                "sizeEstimate": 1234,
            }
        )

    def _calendar_event(self, calendar_id: str, event_id: str) -> Response:
        event = self.state.events.get((calendar_id, event_id))
        if event is None:
            return _error(404, "Not Found", "notFound")
        return json_response({"kind": "calendar#event", "status": "confirmed", **event})


def _without_conference_unless_versioned(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    # Without conferenceDataVersion=1 the real API ignores conferenceData in writes.
    if request.args.get("conferenceDataVersion") == "1":
        return body
    return {k: v for k, v in body.items() if k != "conferenceData"}


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field, arrays and plain values replace, null removes."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error_body(status: int, message: str, reason: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "errors": [{"message": message, "reason": reason}]}}


def _error(status: int, message: str, reason: str) -> Response:
    return json_response(_error_body(status, message, reason), status)


@contextmanager
def running_fake_google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle().start()
    try:
        yield fake
    finally:
        fake.stop()
