"""A fake of Webex's OAuth and Meetings REST API, served over real HTTP on 127.0.0.1.

It insists on what Webex documents: bearer tokens with the right scopes, single-use codes bound to a
PKCE challenge, the create rules (times, offsets, tags), tags private to their meetings, the 7-day
default window of a listing; and it can be told to fail or stall.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import json_response
from tests.fakes.scripting import ScriptedFake, ScriptedState

DEFAULT_USER = "alice@corp.example"
GRANTED_SCOPES = frozenset(
    {"meeting:schedules_read", "meeting:schedules_write", "meeting:preferences_read", "spark:kms"}
)
KNOWN_SCOPES = GRANTED_SCOPES | {
    "meeting:preferences_write",
    "meeting:recordings_read",
    "meeting:participants_read",
    "spark:people_read",
}
ACCESS_TOKEN_SECONDS = 1_209_599
REFRESH_TOKEN_SECONDS = 7_775_999
SHORTEST = timedelta(minutes=10)
LONGEST = timedelta(hours=23, minutes=59)
LIST_WINDOW = timedelta(days=7)
DIAL_IN = [
    {"label": "United States Toll", "callInNumber": "+1-415-655-0001", "tollType": "toll"},
    {"label": "United States Toll Free", "callInNumber": "+1-855-244-8681", "tollType": "tollFree"},
]


class Refused(Exception):
    """A request Webex answers with an error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class AuthCode:
    redirect_uri: str
    challenge: str
    email: str
    scopes: frozenset[str]


@dataclass
class AccessToken:
    email: str
    scopes: frozenset[str]
    expired: bool = False


@dataclass
class RefreshToken:
    email: str
    scopes: frozenset[str]


@dataclass
class FakeMeeting:
    data: dict[str, Any]  # the MeetingSeriesObject Webex answers with
    host: str
    invitees: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    deleted: bool = False


def default_sites() -> list[dict[str, Any]]:
    return [
        {"siteUrl": "corp-events.webex.com", "default": False},
        {"siteUrl": "corp.webex.com", "default": True},
    ]


@dataclass
class FakeWebexState(ScriptedState):
    meetings: dict[str, FakeMeeting] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=default_sites)
    # (recipient, what): the emails Webex itself would have sent.
    emails_sent: list[tuple[str, str]] = field(default_factory=list)
    next_login: str | None = None
    deny_next: bool = False
    rotate_refresh_tokens: bool = False
    refreshes: int = 0


class FakeWebex(ScriptedFake):
    """Webex's /authorize and /access_token, /meetingPreferences/sites and /meetings, under /v1."""

    def __init__(
        self,
        client_id: str = "webex-client-id",
        client_secret: str = "webex-client-secret",
        redirect_uris: tuple[str, ...] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris  # None: any redirect URI is registered
        self.state = FakeWebexState()
        self._lock = threading.RLock()
        super().__init__()

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        with self._lock:
            self.state = FakeWebexState()

    # Arranging and inspecting ------------------------------------------------------------

    @property
    def meetings(self) -> dict[str, FakeMeeting]:
        """The meetings that exist (not deleted), by id."""
        with self._lock:
            return {meeting_id: m for meeting_id, m in self.state.meetings.items() if not m.deleted}

    @property
    def refreshes(self) -> int:
        return self.state.refreshes

    @property
    def rotate_refresh_tokens(self) -> bool:
        return self.state.rotate_refresh_tokens

    @rotate_refresh_tokens.setter
    def rotate_refresh_tokens(self, value: bool) -> None:
        self.state.rotate_refresh_tokens = value

    @property
    def emails_sent(self) -> list[tuple[str, str]]:
        return list(self.state.emails_sent)

    def next_login(self, email: str) -> None:
        """The next authorization is approved as this user."""
        self.state.next_login = email

    def deny_next(self) -> None:
        """The user declines the next authorization."""
        self.state.deny_next = True

    def connect(self, email: str = DEFAULT_USER) -> dict[str, Any]:
        """Tokens for `email` as the code exchange would issue them, without the browser round trip."""
        with self._lock:
            return self._issue(email, GRANTED_SCOPES)

    def revoke_user(self, email: str) -> None:
        """Every access and refresh token of this user stops working."""
        with self._lock:
            for tokens in (self.state.access_tokens, self.state.refresh_tokens):
                for token in [t for t, grant in tokens.items() if grant.email == email]:
                    del tokens[token]

    def expire_access_tokens(self) -> None:
        """Access tokens issued so far are refused with 401; refresh tokens still work."""
        with self._lock:
            for token in self.state.access_tokens.values():
                token.expired = True

    # Serving -------------------------------------------------------------------------------

    def _failure_response(self, status: int, body: dict[str, Any] | None) -> Response:
        return _webex_json(body if body is not None else _error_body(_reason(status)), status)

    def _route(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        routes = {
            ("GET", "v1/authorize"): self._authorize,
            ("POST", "v1/access_token"): self._token,
            ("GET", "v1/meetingPreferences/sites"): self._sites,
            ("GET", "v1/meetings"): self._list_meetings,
            ("POST", "v1/meetings"): self._create_meeting,
        }
        try:
            handler = routes.get((request.method, "/".join(parts)))
            if handler is not None:
                return handler(request)
            if parts[:2] == ["v1", "meetings"] and len(parts) == 3:
                one = {"GET": self._get_meeting, "PATCH": self._patch_meeting, "DELETE": self._delete_meeting}
                if request.method in one:
                    return one[request.method](request, parts[2])
                raise Refused(405, "Method not allowed.")
            raise Refused(404, "The requested resource could not be found.")
        except Refused as refusal:
            return _webex_json(_error_body(refusal.message), refusal.status)

    # OAuth ---------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        # Without a known client and a registered redirect URI there is nowhere safe to send the user.
        if args.get("client_id") != self.client_id:
            raise Refused(400, "Invalid client_id.")
        if not redirect_uri or (self.redirect_uris is not None and redirect_uri not in self.redirect_uris):
            raise Refused(400, "Invalid redirect_uri.")
        state = args.get("state")
        scopes = frozenset(args.get("scope", "").split())
        login, self.state.next_login = self.state.next_login or DEFAULT_USER, None
        denied, self.state.deny_next = self.state.deny_next, False
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, state, error="unsupported_response_type")
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return _redirect(redirect_uri, state, error="invalid_request")
        if not scopes or not scopes <= KNOWN_SCOPES:
            return _redirect(redirect_uri, state, error="invalid_scope")
        if denied:
            return _redirect(redirect_uri, state, error="access_denied")
        code = secrets.token_urlsafe(24)
        self.state.codes[code] = AuthCode(redirect_uri, args["code_challenge"], login, scopes)
        return _redirect(redirect_uri, state, code=code)

    def _token(self, request: Request) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "The request must be form-encoded.")
        form = request.form
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if request.authorization is not None and request.authorization.type == "basic":
            client_id, client_secret = request.authorization.username, request.authorization.password
        if client_id != self.client_id or not hmac.compare_digest(str(client_secret), self.client_secret):
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.state.codes.pop(form.get("code", ""), None)  # single use, even when the exchange fails
            if code is None or code.redirect_uri != form.get("redirect_uri"):
                return _oauth_error(400, "invalid_grant", "The authorization code is invalid or expired.")
            if not hmac.compare_digest(_s256(form.get("code_verifier", "")), code.challenge):
                return _oauth_error(400, "invalid_grant", "The code verifier does not match the challenge.")
            return json_response(self._issue(code.email, code.scopes))
        if grant_type == "refresh_token":
            old = form.get("refresh_token", "")
            grant = self.state.refresh_tokens.get(old)
            if grant is None:
                return _oauth_error(
                    400,
                    "invalid_grant",
                    "The refresh token provided is expired, revoked, malformed, or invalid.",
                )
            self.state.refreshes += 1
            if self.state.rotate_refresh_tokens:
                del self.state.refresh_tokens[old]
                return json_response(self._issue(grant.email, grant.scopes))
            return json_response(self._issue(grant.email, grant.scopes, refresh_token=old))
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")

    def _issue(self, email: str, scopes: frozenset[str], refresh_token: str | None = None) -> dict[str, Any]:
        access_token = "wx-at-" + secrets.token_urlsafe(24)
        self.state.access_tokens[access_token] = AccessToken(email, scopes)
        if refresh_token is None:
            refresh_token = "wx-rt-" + secrets.token_urlsafe(24)
            self.state.refresh_tokens[refresh_token] = RefreshToken(email, scopes)
        return {
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_token": refresh_token,
            "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
            "token_type": "Bearer",
        }

    def _caller(self, request: Request, scope: str) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grant = self.state.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if grant is None or grant.expired:
            raise Refused(401, "The request requires a valid access token set in the Authorization request header.")
        if scope not in grant.scopes:
            raise Refused(403, "The server understood the request, but refused to fulfill it.")
        return grant.email

    # Meetings ------------------------------------------------------------------------------

    def _sites(self, request: Request) -> Response:
        self._caller(request, "meeting:preferences_read")
        return _webex_json({"sites": self.state.sites})

    def _list_meetings(self, request: Request) -> Response:
        email = self._caller(request, "meeting:schedules_read")
        args = request.args
        if args.get("meetingType", "meetingSeries") != "meetingSeries":
            return _webex_json({"items": []})  # only series are modelled
        start = _parse_time(args["from"], "from", UTC) if args.get("from") else None
        end = _parse_time(args["to"], "to", UTC) if args.get("to") else None
        if start is None:
            start = end - LIST_WINDOW if end is not None else datetime.now(UTC)
        if end is None:
            end = start + LIST_WINDOW
        if start > end:
            raise Refused(400, "from cannot be after to.")
        limit = min(100, max(1, int(args.get("max", "10"))))
        tag = args.get("integrationTag")
        items = [
            m.data
            for m in self.state.meetings.values()
            if m.host == email
            and not m.deleted
            and (tag is None or tag in m.data.get("integrationTags", []))
            and m.starts_at < end
            and (m.ends_at > start or "recurrence" in m.data)
        ]
        return _webex_json({"items": items[:limit]})

    def _create_meeting(self, request: Request) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        body = _json_body(request)
        for name in ("title", "start", "end"):
            if not body.get(name):
                raise Refused(400, f"{name} cannot be empty.")
        fields = _checked_fields(body)
        starts_at, ends_at, zone_name = _checked_times(body)
        invitees = _checked_invitees(body.get("invitees"))
        site = body.get("siteUrl") or self._default_site()
        if site not in {s["siteUrl"] for s in self.state.sites}:
            raise Refused(400, f"siteUrl '{site}' is not a site of this user.")
        number = str(secrets.randbelow(8 * 10**9) + 2 * 10**9)
        meeting_id = secrets.token_hex(16)
        data: dict[str, Any] = {
            "id": meeting_id,
            "meetingNumber": number,
            "title": fields["title"],
            "password": body.get("password") or secrets.token_urlsafe(8),
            "phoneAndVideoSystemPassword": str(secrets.randbelow(9 * 10**7) + 10**7),
            "meetingType": "meetingSeries",
            "state": "active",
            "timezone": zone_name,
            "start": _format_time(starts_at, zone_name),
            "end": _format_time(ends_at, zone_name),
            "hostUserId": "wx-user-" + hashlib.sha256(email.encode()).hexdigest()[:16],
            "hostDisplayName": email.split("@")[0].title(),
            "hostEmail": email,
            "hostKey": str(secrets.randbelow(900000) + 100000),
            "siteUrl": site,
            "webLink": f"https://{site}/{site.split('.')[0]}/j.php?MTID=m{secrets.token_hex(16)}",
            "sipAddress": f"{number}@{site}",
            "dialInIpAddress": "173.243.2.68",
            "enabledAutoRecordMeeting": bool(body.get("enabledAutoRecordMeeting", False)),
            "enabledJoinBeforeHost": bool(body.get("enabledJoinBeforeHost", False)),
            "scheduledType": "meeting",
            "telephony": {
                "accessCode": number,
                "callInNumbers": [dict(n) for n in DIAL_IN],
                "links": [{"rel": "globalCallinNumbers", "href": f"/v1/meetings/{meeting_id}/globalCallinNumbers"}],
            },
        }
        for name in ("agenda", "recurrence", "templateId"):
            if fields.get(name):
                data[name] = fields[name]
        if fields.get("integrationTags"):
            data["integrationTags"] = list(fields["integrationTags"])
        self.state.meetings[meeting_id] = FakeMeeting(data, email, invitees, starts_at, ends_at)
        if body.get("sendEmail", True):
            self._email([email, *(i["email"] for i in invitees)], "invitation: " + data["title"])
        return _webex_json(data)

    def _get_meeting(self, request: Request, meeting_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_read")
        return _webex_json(self._owned(meeting_id, email).data)

    def _patch_meeting(self, request: Request, meeting_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        meeting = self._owned(meeting_id, email)
        body = _json_body(request)
        fields = _checked_fields(body)
        if body.get("siteUrl") not in (None, meeting.data["siteUrl"]):
            raise Refused(400, "siteUrl cannot be changed.")
        if {"start", "end", "timezone"} & body.keys():
            merged = {k: body.get(k, meeting.data[k]) for k in ("start", "end", "timezone")}
            meeting.starts_at, meeting.ends_at, zone_name = _checked_times(merged)
            meeting.data["timezone"] = zone_name
            meeting.data["start"] = _format_time(meeting.starts_at, zone_name)
            meeting.data["end"] = _format_time(meeting.ends_at, zone_name)
        for name in ("title", "agenda", "recurrence", "integrationTags", "password"):
            if name not in body:
                continue
            if fields.get(name):  # null or empty clears (integrationTags: "an empty or null value deletes all")
                meeting.data[name] = fields[name]
            elif name != "password":
                meeting.data.pop(name, None)
        if "enabledJoinBeforeHost" in body:
            meeting.data["enabledJoinBeforeHost"] = bool(body["enabledJoinBeforeHost"])
        if body.get("sendEmail", True):
            self._email([email, *(i["email"] for i in meeting.invitees)], "update: " + meeting.data["title"])
        return _webex_json(meeting.data)

    def _delete_meeting(self, request: Request, meeting_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        meeting = self._owned(meeting_id, email)
        meeting.deleted = True
        if request.args.get("sendEmail", "true") != "false":
            self._email([email, *(i["email"] for i in meeting.invitees)], "cancellation: " + meeting.data["title"])
        return Response(status=204)

    def _owned(self, meeting_id: str, email: str) -> FakeMeeting:
        meeting = self.state.meetings.get(meeting_id)
        if meeting is None or meeting.host != email:
            raise Refused(404, "Meeting not found.")
        if meeting.deleted:
            raise Refused(410, "Meeting has been deleted.")
        return meeting

    def _default_site(self) -> str:
        return next((s["siteUrl"] for s in self.state.sites if s.get("default")), self.state.sites[0]["siteUrl"])

    def _email(self, recipients: list[str], what: str) -> None:
        self.state.emails_sent.extend((recipient, what) for recipient in recipients)


def _checked_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Title, agenda, recurrence, password and tags, refused the way Webex documents."""
    title, agenda, recurrence = body.get("title"), body.get("agenda"), body.get("recurrence")
    if "title" in body and (not isinstance(title, str) or not 1 <= len(title) <= 128):
        raise Refused(400, "title must be between 1 and 128 characters.")
    if agenda is not None and (not isinstance(agenda, str) or len(agenda) > 1300):
        raise Refused(400, "agenda cannot be longer than 1300 characters.")
    if recurrence is not None and (
        not isinstance(recurrence, str) or "FREQ=" not in recurrence or recurrence.startswith("RRULE:")
    ):
        raise Refused(400, f"Invalid recurrence rule '{recurrence}'.")
    if "password" in body and (not isinstance(body["password"], str) or not body["password"]):
        raise Refused(400, "Meeting password validation failed: password cannot be empty.")
    tags = body.get("integrationTags")
    if tags is not None and (
        not isinstance(tags, list)
        or len(tags) > 3
        or not all(isinstance(tag, str) and 0 < len(tag) <= 64 for tag in tags)
    ):
        raise Refused(400, "integrationTags can have at most 3 items of at most 64 characters.")
    return {
        "title": title,
        "agenda": agenda,
        "recurrence": recurrence,
        "password": body.get("password"),
        "integrationTags": tags,
        "templateId": body.get("templateId"),
    }


def _checked_times(body: dict[str, Any]) -> tuple[datetime, datetime, str]:
    zone_name = body.get("timezone")
    zone: tzinfo = UTC
    if zone_name is not None:
        try:
            zone = ZoneInfo(str(zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            raise Refused(400, f"Invalid timezone '{zone_name}'.") from None
    start = _parse_time(body.get("start"), "start", zone)
    end = _parse_time(body.get("end"), "end", zone)
    if zone_name is not None:
        for raw, moment in ((body["start"], start), (body["end"], end)):
            if moment.utcoffset() != moment.astimezone(zone).utcoffset():
                raise Refused(400, f"timezone '{zone_name}' and timezone offset in '{raw}' do not match")
    start = start.replace(second=0, microsecond=0)  # Webex keeps minutes only
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    if start < now:
        raise Refused(400, "start cannot be before current date and time.")
    if not SHORTEST <= end - start <= LONGEST:
        raise Refused(400, "The duration between start and end must be between 10 minutes and 23 hours 59 minutes.")
    return start, end, str(zone_name or "UTC")


def _checked_invitees(invitees: Any) -> list[dict[str, Any]]:
    if invitees is None:
        return []
    if not isinstance(invitees, list) or len(invitees) > 1000:
        raise Refused(400, "invitees must be a list of at most 1000 items.")
    for invitee in invitees:
        if not isinstance(invitee, dict) or not isinstance(invitee.get("email"), str) or "@" not in invitee["email"]:
            raise Refused(400, "Every invitee needs a valid email.")
    return [dict(invitee) for invitee in invitees]


def _parse_time(value: Any, name: str, zone: tzinfo) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise Refused(400, f"{name} '{value}' is not an ISO 8601 date and time.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _format_time(moment: datetime, zone_name: str) -> str:
    return moment.astimezone(ZoneInfo(zone_name)).isoformat(timespec="seconds")


def _json_body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refused(400, "The request body must be a JSON object.")
    return body


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _redirect(redirect_uri: str, state: str | None, **params: str) -> Response:
    query = {**params, **({"state": state} if state is not None else {})}
    separator = "&" if "?" in redirect_uri else "?"
    return Response(status=302, headers={"Location": f"{redirect_uri}{separator}{urlencode(query)}"})


def _reason(status: int) -> str:
    reasons = {
        400: "The request was invalid or cannot be otherwise served.",
        401: "The request requires a valid access token set in the Authorization request header.",
        404: "The requested resource could not be found.",
        429: "Too many requests have been sent in a given amount of time.",
        500: "Something went wrong on the server.",
        502: "The server received an invalid response from an upstream server.",
        503: "Server is overloaded with requests. Try again later.",
        504: "An upstream server failed to respond on time.",
    }
    return reasons.get(status, f"HTTP {status}")


def _error_body(message: str) -> dict[str, Any]:
    return {"message": message, "errors": [{"description": message}], "trackingId": "ROUTER_" + secrets.token_hex(8)}


def _webex_json(body: Any, status: int = 200) -> Response:
    response = json_response(body, status)
    response.headers["Trackingid"] = "ROUTER_" + secrets.token_hex(8)
    return response


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)
