"""A fake of Zoom's OAuth and Meetings API v2, served over real HTTP on 127.0.0.1.

It insists on what Zoom documents: client credentials as HTTP Basic, single-use codes bound to a PKCE
challenge, refresh tokens that rotate, re-authorizing that revokes earlier tokens, numeric meeting ids,
passcodes of at most 10 characters that meet the account's passcode requirement, 204 answers without a
body, date-valued Retry-After, a daily create/update quota, and the occurrences of a recurring meeting
with a fixed time (named by their original start in epoch milliseconds), of which only the agenda, time
and a few settings change one at a time; and it can be told to fail or stall.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import format_datetime
from itertools import count
from typing import Any, Literal
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import json_response
from tests.fakes.oauth_server import Grant, OAuthRules, OAuthServerFake, OAuthState, Refusal, Refusals

ACCESS_TOKEN_SECONDS = 3599
CODE_SECONDS = 300
DAILY_LIMIT = 100  # meeting creates and updates per user per day, reset at 00:00 UTC
PASSWORD = re.compile(r"[A-Za-z0-9@\-_*]{1,10}")
WEEKLY_DAYS = re.compile(r"[1-7](,[1-7])*")
INTERVAL_LIMITS = {1: 90, 2: 12, 3: 3}
MOST_OCCURRENCES = 50
# What PATCH ?occurrence_id= may change: "agenda, start_time, duration, settings: {host_video, ...}".
OCCURRENCE_FIELDS = frozenset({"agenda", "start_time", "duration", "settings"})
OCCURRENCE_SETTINGS = frozenset(
    {"host_video", "participant_video", "join_before_host", "mute_upon_entry", "waiting_room", "watermark"}
    | {"auto_recording"}
)
GLOBAL_DIAL_IN = [
    {"country": "US", "country_name": "US", "city": "New York", "number": "+1 6465588656", "type": "toll"},
    {"country": "US", "country_name": "US", "number": "+1 8774369236", "type": "tollfree"},
    {"country": "DE", "country_name": "Germany", "city": "Frankfurt", "number": "+49 69 7104 9922", "type": "toll"},
]
REASONS = {
    400: "Bad Request",
    401: "Invalid access token.",
    404: "Not Found",
    429: "You have exceeded the rate limit for this API. Please try again later.",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Refused(Exception):
    """A request Zoom answers with `{"code", "message"}`."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def invalid(field_name: str, message: str) -> Refused:
    """Zoom's validation failure (HTTP 400, code 300) for one field."""
    return Refused(400, 300, "Validation Failed.", [{"field": field_name, "message": message}])


@dataclass
class FakeMeeting:
    data: dict[str, Any]  # the meeting object as GET /meetings/{id} answers it, but for its occurrences
    host: str
    template_id: str | None = None
    deleted: bool = False
    # Occurrences changed on their own, by occurrence id: "start_time", "duration", "agenda" or "deleted".
    exceptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def starts_at(self) -> datetime | None:
        start = self.data.get("start_time")
        return datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None


@dataclass
class PasscodeRequirement:
    """The account's "minimum passcode requirement" settings; none by default."""

    min_length: int = 1
    letter: bool = False
    number: bool = False
    special_character: bool = False
    upper_and_lower: bool = False
    only_numeric: bool = False


@dataclass
class FakeZoomState(OAuthState):
    rotate_refresh_tokens: bool = True  # a Zoom refresh token works once
    meetings: dict[str, FakeMeeting] = field(default_factory=dict)
    deleted_users: set[str] = field(default_factory=set)
    page_tokens: dict[str, int] = field(default_factory=dict)
    writes: dict[tuple[str, str], int] = field(default_factory=dict)  # (user, UTC day) -> creates and updates
    # (recipient, what): the emails Zoom itself would have sent.
    emails_sent: list[tuple[str, str]] = field(default_factory=list)
    daily_limit: int = DAILY_LIMIT
    passcode_requirement: PasscodeRequirement = field(default_factory=PasscodeRequirement)
    # An account with a vanity URL (acme.zoom.us) or on a regional cluster (us05web.zoom.us) links there.
    join_host: str = "zoom.us"


class FakeZoom(OAuthServerFake):
    """Zoom's /oauth/authorize, /oauth/token and /oauth/revoke, and the meeting endpoints under /v2."""

    oauth_rules = OAuthRules(
        token_prefix="zm",
        token_bytes=32,
        access_token_seconds=ACCESS_TOKEN_SECONDS,
        code_seconds=CODE_SECONDS,
        known_scopes=None,
        granted_scopes=frozenset({"meeting:read", "meeting:write", "user:read"}),
        client_in_form=False,
        # Zoom 4741 "The token has been revoked": a new authorization ends the earlier ones.
        reauthorizing_ends_grants=True,
        refusals=Refusals(
            not_form=Refusal(400, "invalid_request", "Unsupported content type"),
            # As Zoom answers (a 400, not a 401): github.com/JubaerHossain/zoom-laravel/issues/3.
            bad_client=Refusal(400, "invalid_client", "Invalid client_id or client_secret"),
            # Zoom calls a spent or unknown code an invalid request: github.com/Jericho/ZoomNet/issues/36.
            unknown_code=Refusal(400, "invalid_request", "Invalid authorization code {code}"),
            redirect_mismatch=Refusal(400, "invalid_request", "Redirect URI mismatch."),
            wrong_verifier=Refusal(400, "invalid_grant", "Invalid code_verifier"),
            unknown_refresh_token=Refusal(400, "invalid_grant", "Invalid Token!"),
            unsupported_grant_type=Refusal(400, "unsupported_grant_type", "Unsupported grant type"),
            unknown_token=Refusal(400, "invalid_request", "Invalid Token!"),
        ),
    )

    def __init__(
        self,
        client_id: str = "zoom-client-id",
        client_secret: str = "zoom-client-secret",
        redirect_uris: tuple[str, ...] | None = None,
    ) -> None:
        self.state = FakeZoomState()
        super().__init__(client_id, client_secret, redirect_uris)

    @property
    def api_base(self) -> str:
        return f"{self.url}/v2"

    @property
    def oauth_base(self) -> str:
        return self.url

    def reset(self) -> None:
        with self._lock:
            self.state = FakeZoomState()

    # Arranging and inspecting ------------------------------------------------------------

    @property
    def meetings(self) -> dict[str, FakeMeeting]:
        """The meetings that exist (not deleted), by id as a string."""
        with self._lock:
            return {meeting_id: m for meeting_id, m in self.state.meetings.items() if not m.deleted}

    @property
    def emails_sent(self) -> list[tuple[str, str]]:
        return list(self.state.emails_sent)

    @property
    def daily_limit(self) -> int:
        return self.state.daily_limit

    @daily_limit.setter
    def daily_limit(self, value: int) -> None:
        self.state.daily_limit = value

    @property
    def passcode_requirement(self) -> PasscodeRequirement:
        """The account's passcode requirement; change its fields to make the account stricter."""
        return self.state.passcode_requirement

    def occurrences(self, meeting_id: str) -> list[dict[str, Any]]:
        """The occurrences of a recurring meeting with a fixed time, deleted ones included, as GET lists them."""
        with self._lock:
            return _occurrences(self.state.meetings[meeting_id])

    def delete_user_on_zoom(self, email: str) -> None:
        """An admin deletes the user: their meetings go, and API calls answer 404 with code 1001."""
        with self._lock:
            self.state.deleted_users.add(email)
            for meeting in self.state.meetings.values():
                if meeting.host == email:
                    meeting.deleted = True

    # Serving -------------------------------------------------------------------------------

    def _failure_response(self, status: int, body: dict[str, Any] | None) -> Response:
        return _zoom_json(body if body is not None else _error_body(status), status)

    def _failure_headers(self, status: int) -> dict[str, str]:
        """Zoom's date-valued Retry-After (one second ahead) and X-RateLimit-Type for a 429 scripted without headers."""
        if status == 429:
            return _rate_limit_headers(datetime.now(UTC) + timedelta(seconds=1), "QPS")
        return {}

    def _route(self, request: Request) -> Response:
        with self._lock:
            return self._answer(request)

    def _answer(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        oauth = {
            ("GET", "oauth/authorize"): self._authorize,
            ("POST", "oauth/token"): self._token,
            ("POST", "oauth/revoke"): self._revoke,
        }
        handler = oauth.get((request.method, "/".join(parts)))
        if handler is not None:
            return handler(request)
        try:
            if parts[:2] == ["v2", "users"] and len(parts) == 4 and parts[3] == "meetings":
                email = self._caller(request, parts[2])
                if request.method == "POST":
                    return self._create_meeting(request, email)
                if request.method == "GET":
                    return self._list_meetings(request, email)
            elif parts[:2] == ["v2", "meetings"] and len(parts) == 3:
                email = self._caller(request)
                one = {"GET": self._get_meeting, "PATCH": self._patch_meeting, "DELETE": self._delete_meeting}
                if request.method in one:
                    return one[request.method](request, email, parts[2])
            elif parts[:2] == ["v2", "meetings"] and len(parts) == 4 and parts[3] == "sip_dialing":
                email = self._caller(request)
                if request.method == "POST":
                    return self._sip_dialing(email, parts[2])
            else:
                raise Refused(404, 404, "Not Found")
            raise Refused(405, 405, "Method Not Allowed")
        except Refused as refusal:
            body: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
            if refusal.errors:
                body["errors"] = refusal.errors
            response = _zoom_json(body, refusal.status)
            response.headers.update(refusal.headers)
            return response

    # OAuth, in Zoom's words ----------------------------------------------------------------

    def _token_answer(self, access_token: str, refresh_token: str, grant: Grant) -> dict[str, Any]:
        return {
            "access_token": access_token,
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(sorted(grant.scopes)),
            "api_url": self.url,
        }

    def _oauth_error(self, refusal: Refusal) -> Response:
        return json_response({"reason": refusal.description, "error": refusal.error}, refusal.status)

    def _unsafe_authorize(self, what: Literal["client_id", "redirect_uri"]) -> Response:
        page = "Invalid client_id: 4,700" if what == "client_id" else "Invalid redirect: 4,700"
        return Response(page, status=400, mimetype="text/html")

    def _caller(self, request: Request, user_id: str = "me") -> str:
        grant = self._bearer_grant(request)
        if grant is None:
            raise Refused(401, 124, "Invalid access token.")
        email = grant.email
        if email in self.state.deleted_users:
            raise Refused(404, 1001, f"User does not exist: {user_id}.")
        if user_id not in ("me", email, _user_id(email)):
            raise Refused(404, 1001, f"User does not exist: {user_id}.")
        return email

    # Meetings ------------------------------------------------------------------------------

    def _create_meeting(self, request: Request, email: str) -> Response:
        body = _json_body(request)
        fields = _checked_fields(body, self.state.passcode_requirement)
        if fields.get("type") == 8 and "recurrence" not in fields:
            raise invalid("recurrence", "A recurring meeting with a fixed time needs a recurrence.")
        self._count_write(email)
        meeting_id = secrets.randbelow(9 * 10**10) + 10**10
        password = fields.get("password") or secrets.token_urlsafe(6)[:6]
        encrypted = secrets.token_urlsafe(24)
        data: dict[str, Any] = {
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode("ascii"),
            "id": meeting_id,
            "host_id": _user_id(email),
            "host_email": email,
            "assistant_id": "",
            "topic": fields.get("topic", "Zoom Meeting"),
            "type": fields.get("type", 2),
            "status": "waiting",
            "timezone": fields.get("timezone", "America/Los_Angeles"),
            "agenda": fields.get("agenda", ""),
            "created_at": _utc(datetime.now(UTC)),
            "start_url": f"https://{self.state.join_host}/s/{meeting_id}?zak={secrets.token_urlsafe(32)}",
            "join_url": f"https://{self.state.join_host}/j/{meeting_id}?pwd={encrypted}",
            "password": password,
            "h323_password": str(secrets.randbelow(900000) + 100000),
            "pstn_password": str(secrets.randbelow(900000) + 100000),
            "encrypted_password": encrypted,
            "pre_schedule": False,
            "settings": {
                "host_video": False,
                "participant_video": False,
                "join_before_host": False,
                "jbh_time": 0,
                "mute_upon_entry": False,
                "waiting_room": False,
                "approval_type": 2,
                "audio": "both",
                "auto_recording": "none",
                "alternative_hosts": "",
                "meeting_invitees": [],
                "global_dial_in_countries": sorted({n["country"] for n in GLOBAL_DIAL_IN}),
                "global_dial_in_numbers": [dict(n) for n in GLOBAL_DIAL_IN],
            },
        }
        if data["type"] in (2, 8):
            data["start_time"] = fields.get("start_time", _utc(datetime.now(UTC)))
            data["duration"] = fields.get("duration", 60)
        if data["type"] == 8:
            data["recurrence"] = fields["recurrence"]
        data["settings"].update(fields.get("settings", {}))
        meeting = FakeMeeting(data, email, template_id=body.get("template_id"))
        self.state.meetings[str(meeting_id)] = meeting
        return _zoom_json(data, 201)

    def _list_meetings(self, request: Request, email: str) -> Response:
        args = request.args
        kind = args.get("type", "scheduled")
        if kind not in ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"):
            raise invalid("type", f"Invalid field: type '{kind}'.")
        try:
            page_size = min(300, max(1, int(args.get("page_size", "30"))))
        except ValueError:
            raise invalid("page_size", "Invalid field: page_size.") from None
        offset = 0
        if args.get("next_page_token"):
            if args["next_page_token"] not in self.state.page_tokens:
                raise invalid("next_page_token", "Invalid next page token.")
            offset = self.state.page_tokens[args["next_page_token"]]
        now = datetime.now(UTC)
        mine = [m for m in self.state.meetings.values() if m.host == email and not m.deleted]
        if kind in ("upcoming", "upcoming_meetings"):
            mine = [m for m in mine if _still_ahead(m, now)]
        elif kind in ("live", "previous_meetings"):
            mine = []  # nobody is in a fake meeting, and past meetings are not modelled
        page = mine[offset : offset + page_size]
        next_token = ""
        if offset + page_size < len(mine):
            next_token = secrets.token_urlsafe(24)
            self.state.page_tokens[next_token] = offset + page_size
        return _zoom_json(
            {
                "next_page_token": next_token,
                "page_size": page_size,
                "total_records": len(mine),
                "meetings": [_listed(m) for m in page],
            }
        )

    def _get_meeting(self, request: Request, email: str, meeting_id: str) -> Response:
        meeting = self._owned(meeting_id, email)
        answer = dict(meeting.data)
        if answer["type"] == 8:
            answer["occurrences"] = _occurrences(meeting)
        if request.args.get("occurrence_id"):
            occurrence = self._occurrence(meeting, request.args["occurrence_id"])
            answer.update({k: occurrence[k] for k in ("start_time", "duration")})
        return _zoom_json(answer)

    def _patch_meeting(self, request: Request, email: str, meeting_id: str) -> Response:
        meeting = self._owned(meeting_id, email)
        if request.args.get("occurrence_id"):
            return self._patch_occurrence(request, email, meeting)
        fields = _checked_fields(_json_body(request), self.state.passcode_requirement)
        data = meeting.data
        meeting_type = fields.get("type", data["type"])
        if meeting_type == 8 and "recurrence" not in fields and "recurrence" not in data:
            raise invalid("recurrence", "A recurring meeting with a fixed time needs a recurrence.")
        self._count_write(email)
        for name in ("topic", "type", "agenda", "timezone", "password", "recurrence"):
            if name in fields:
                data[name] = fields[name]
        if meeting_type != 8:
            data.pop("recurrence", None)
        if meeting_type == 3:
            data.pop("start_time", None)
            data.pop("duration", None)
        else:
            for name in ("start_time", "duration"):
                if name in fields:
                    data[name] = fields[name]
        data["settings"].update(fields.get("settings", {}))
        return Response(status=204)

    def _delete_meeting(self, request: Request, email: str, meeting_id: str) -> Response:
        meeting = self._owned(meeting_id, email)
        occurrence_id = request.args.get("occurrence_id")
        if occurrence_id:
            self._occurrence(meeting, occurrence_id)
            meeting.exceptions.setdefault(occurrence_id, {})["deleted"] = True
        else:
            meeting.deleted = True
        if request.args.get("schedule_for_reminder", "true") != "false":
            hosts = [h for h in meeting.data["settings"].get("alternative_hosts", "").split(";") if h]
            self.state.emails_sent.extend((who, "cancelled: " + meeting.data["topic"]) for who in [email, *hosts])
        return Response(status=204)

    def _patch_occurrence(self, request: Request, email: str, meeting: FakeMeeting) -> Response:
        occurrence_id = request.args["occurrence_id"]
        self._occurrence(meeting, occurrence_id)
        body = _json_body(request)
        for name in body.keys() - OCCURRENCE_FIELDS:
            raise invalid(name, f"{name} cannot be changed for one occurrence.")
        for name in (body.get("settings") or {}).keys() - OCCURRENCE_SETTINGS:
            raise invalid(f"settings.{name}", f"settings.{name} cannot be changed for one occurrence.")
        fields = _checked_fields({**body, "timezone": meeting.data["timezone"]}, self.state.passcode_requirement)
        self._count_write(email)
        changes = meeting.exceptions.setdefault(occurrence_id, {})
        changes.update({k: fields[k] for k in ("start_time", "duration", "agenda") if k in fields})
        return Response(status=204)

    def _occurrence(self, meeting: FakeMeeting, occurrence_id: str) -> dict[str, Any]:
        for occurrence in _occurrences(meeting):
            if occurrence["occurrence_id"] == occurrence_id and occurrence["status"] != "deleted":
                return occurrence
        raise Refused(404, 3001, f"Meeting occurrence does not exist: {occurrence_id}.")

    def _sip_dialing(self, email: str, meeting_id: str) -> Response:
        meeting = self._owned(meeting_id, email)
        return _zoom_json(
            {
                "sip_dialing": f"{meeting.data['id']}@zoomcrc.com",
                "paid_crc_plan_participant": True,
                "participant_identifier_code": str(secrets.randbelow(9 * 10**5) + 10**5),
                "expire_in": 7200,
            },
            201,
        )

    def _owned(self, meeting_id: str, email: str) -> FakeMeeting:
        meeting = self.state.meetings.get(meeting_id)
        if meeting is None or meeting.deleted or meeting.host != email:
            raise Refused(404, 3001, f"Meeting does not exist: {meeting_id}.")
        return meeting

    def _count_write(self, email: str) -> None:
        today = datetime.now(UTC).date()
        key = (email, today.isoformat())
        if self.state.writes.get(key, 0) >= self.state.daily_limit:
            midnight = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
            raise Refused(
                429,
                429,
                "You have reached the maximum daily rate limit for this API. "
                "Refer to the response header for details on when you can make another request.",
                headers=_rate_limit_headers(midnight, "Daily-limit"),
            )
        self.state.writes[key] = self.state.writes.get(key, 0) + 1


def _checked_fields(body: dict[str, Any], requirement: PasscodeRequirement) -> dict[str, Any]:
    """The meeting fields of a create or update body, refused the way Zoom refuses them (code 300)."""
    fields: dict[str, Any] = {}
    if "topic" in body:
        if not isinstance(body["topic"], str) or len(body["topic"]) > 200:
            raise invalid("topic", "Topic can be at most 200 characters.")
        fields["topic"] = body["topic"]
    if "type" in body:
        if body["type"] not in (1, 2, 3, 8) or isinstance(body["type"], bool):
            raise invalid("type", f"Invalid meeting type: {body['type']}.")
        fields["type"] = body["type"]
    if "agenda" in body:
        if not isinstance(body["agenda"], str) or len(body["agenda"]) > 2000:
            raise invalid("agenda", "Agenda can be at most 2000 characters.")
        fields["agenda"] = body["agenda"]
    zone: tzinfo = UTC
    if "timezone" in body:
        try:
            zone = ZoneInfo(str(body["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid("timezone", f"Invalid timezone: {body['timezone']}.") from None
        fields["timezone"] = body["timezone"]
    if "start_time" in body:
        fields["start_time"] = _utc(_parse_start(body["start_time"], zone))
    if "duration" in body:
        if not isinstance(body["duration"], int) or isinstance(body["duration"], bool) or body["duration"] < 0:
            raise invalid("duration", "Duration must be a whole number of minutes.")
        fields["duration"] = body["duration"]
    if "password" in body:
        password = body["password"]
        if not isinstance(password, str) or not PASSWORD.fullmatch(password):
            raise invalid(
                "password",
                "Password can only have a maximum of 10 characters and only contain alphanumeric characters "
                "and @ - _ *.",
            )
        problem = _passcode_problem(password, requirement)
        if problem:
            raise invalid("password", f"The passcode does not meet the account's passcode requirement: {problem}")
        fields["password"] = password
    if "recurrence" in body:
        fields["recurrence"] = _checked_recurrence(body["recurrence"])
    if "settings" in body:
        fields["settings"] = _checked_settings(body["settings"])
    return fields


def _passcode_problem(passcode: str, requirement: PasscodeRequirement) -> str | None:
    checks = (
        (len(passcode) >= requirement.min_length, f"at least {requirement.min_length} characters"),
        (not requirement.letter or any(c.isalpha() for c in passcode), "a letter"),
        (not requirement.number or any(c.isdigit() for c in passcode), "a number"),
        (not requirement.special_character or any(not c.isalnum() for c in passcode), "a special character"),
        (
            not requirement.upper_and_lower or (passcode.lower() != passcode and passcode.upper() != passcode),
            "upper and lower case letters",
        ),
        (not requirement.only_numeric or passcode.isdigit(), "only numbers"),
    )
    return next((f"it needs {needed}." for met, needed in checks if not met), None)


def _occurrences(meeting: FakeMeeting) -> list[dict[str, Any]]:
    """The occurrences of a recurring meeting with a fixed time, with the changes made to each one."""
    data = meeting.data
    if data["type"] != 8:
        return []
    occurrences = []
    for start in _occurrence_starts(data):
        occurrence_id = str(int(start.timestamp() * 1000))
        changes = meeting.exceptions.get(occurrence_id, {})
        occurrences.append(
            {
                "occurrence_id": occurrence_id,
                "start_time": changes.get("start_time", _utc(start)),
                "duration": changes.get("duration", data.get("duration", 60)),
                "status": "deleted" if changes.get("deleted") else "available",
            }
        )
    return occurrences


def _occurrence_starts(data: dict[str, Any]) -> Iterator[datetime]:
    """Each occurrence's original start, in UTC, as the recurrence repeats the first in the meeting's time zone."""
    recurrence = data["recurrence"]
    zone = ZoneInfo(data.get("timezone") or "UTC")
    first = datetime.fromisoformat(data["start_time"].replace("Z", "+00:00")).astimezone(zone)
    last = (
        datetime.fromisoformat(recurrence["end_date_time"].replace("Z", "+00:00"))
        if "end_date_time" in recurrence
        else None
    )
    remaining = min(recurrence.get("end_times", MOST_OCCURRENCES), MOST_OCCURRENCES)
    for day in _recurring_days(recurrence, first.date()):
        moment = datetime.combine(day, first.time(), zone)
        if moment < first:
            continue
        if remaining == 0 or (last is not None and moment > last):
            return
        remaining -= 1
        yield moment.astimezone(UTC)


def _recurring_days(recurrence: dict[str, Any], first: date) -> Iterator[date]:
    """Every day the recurrence names from the period of `first` on, in order (the caller stops the list)."""
    interval = recurrence.get("repeat_interval", 1)
    if recurrence["type"] == 1:
        yield from (first + timedelta(days=step * interval) for step in count())
    elif recurrence["type"] == 2:
        sunday = first - timedelta(days=first.isoweekday() % 7)  # Zoom's weeks start on Sunday = 1
        days = sorted(int(day) for day in recurrence["weekly_days"].split(","))
        for step in count():
            yield from (sunday + timedelta(days=step * interval * 7 + day - 1) for day in days)
    else:
        for step in count():
            year, month = divmod(first.month - 1 + step * interval, 12)
            day = _monthly_day(first.year + year, month + 1, recurrence)
            if day is not None:
                yield day


def _monthly_day(year: int, month: int, recurrence: dict[str, Any]) -> date | None:
    if "monthly_day" in recurrence:
        try:
            return date(year, month, recurrence["monthly_day"])
        except ValueError:
            return None  # a month without that day has no occurrence
    weekday = (recurrence["monthly_week_day"] - 2) % 7  # Zoom's Sunday = 1, Python's Monday = 0
    days = [date(year, month, d) for d in range(1, 32) if _is_date(year, month, d)]
    matching = [d for d in days if d.weekday() == weekday]
    week = recurrence["monthly_week"]
    return matching[-1] if week == -1 else matching[week - 1]


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _checked_recurrence(recurrence: Any) -> dict[str, Any]:
    if not isinstance(recurrence, dict) or recurrence.get("type") not in (1, 2, 3):
        raise invalid("recurrence.type", "Recurrence type must be 1 (daily), 2 (weekly) or 3 (monthly).")
    kind = recurrence["type"]
    checked: dict[str, Any] = {"type": kind, "repeat_interval": recurrence.get("repeat_interval", 1)}
    interval = checked["repeat_interval"]
    if not isinstance(interval, int) or not 1 <= interval <= INTERVAL_LIMITS[kind]:
        raise invalid("recurrence.repeat_interval", f"Repeat interval can be 1 to {INTERVAL_LIMITS[kind]}.")
    if kind == 2:
        days = recurrence.get("weekly_days", "1")
        if not isinstance(days, str) or not WEEKLY_DAYS.fullmatch(days):
            raise invalid("recurrence.weekly_days", f"Invalid weekly_days: {days}.")
        checked["weekly_days"] = days
    if kind == 3:
        if "monthly_day" in recurrence:
            if recurrence["monthly_day"] not in range(1, 32):
                raise invalid("recurrence.monthly_day", "monthly_day must be 1 to 31.")
            checked["monthly_day"] = recurrence["monthly_day"]
        elif recurrence.get("monthly_week") in (-1, 1, 2, 3, 4) and recurrence.get("monthly_week_day") in range(1, 8):
            checked["monthly_week"] = recurrence["monthly_week"]
            checked["monthly_week_day"] = recurrence["monthly_week_day"]
        else:
            raise invalid("recurrence.monthly_day", "A monthly recurrence needs monthly_day or monthly_week(_day).")
    if "end_times" in recurrence and "end_date_time" in recurrence:
        raise invalid("recurrence.end_times", "end_times cannot be used with end_date_time.")
    if "end_date_time" in recurrence:
        end = recurrence["end_date_time"]
        if not isinstance(end, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", end):
            raise invalid("recurrence.end_date_time", "end_date_time must be a UTC time such as 2017-11-25T12:00:00Z.")
        checked["end_date_time"] = end
    else:
        end_times = recurrence.get("end_times", 1)
        if not isinstance(end_times, int) or not 1 <= end_times <= 50:
            raise invalid("recurrence.end_times", "end_times must be between 1 and 50.")
        checked["end_times"] = end_times
    return checked


def _checked_settings(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise invalid("settings", "settings must be an object.")
    checked: dict[str, Any] = {}
    for name in ("waiting_room", "join_before_host"):
        if name in settings:
            if not isinstance(settings[name], bool):
                raise invalid(f"settings.{name}", f"{name} must be true or false.")
            checked[name] = settings[name]
    if "alternative_hosts" in settings:
        hosts = settings["alternative_hosts"]
        if not isinstance(hosts, str) or any("@" not in h for h in hosts.split(";") if h) or "," in hosts:
            raise invalid("settings.alternative_hosts", "alternative_hosts is a semicolon-separated list of emails.")
        checked["alternative_hosts"] = hosts
    if "meeting_invitees" in settings:
        invitees = settings["meeting_invitees"]
        if not isinstance(invitees, list) or not all(
            isinstance(i, dict) and isinstance(i.get("email"), str) and "@" in i["email"] for i in invitees
        ):
            raise invalid("settings.meeting_invitees", "Every invitee needs an email.")
        checked["meeting_invitees"] = [{"email": i["email"]} for i in invitees]
    return checked


def _parse_start(value: Any, zone: tzinfo) -> datetime:
    """Zoom's two forms: `yyyy-MM-ddTHH:mm:ssZ` (GMT) or a local time without an offset, read in `timezone`."""
    text = str(value)
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text):
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    raise invalid("start_time", f"Invalid start_time: {text}.")


def _still_ahead(meeting: FakeMeeting, now: datetime) -> bool:
    starts_at = meeting.starts_at
    if meeting.data["type"] in (3, 8) or starts_at is None:
        return True  # the end of a series is not modelled
    return starts_at + timedelta(minutes=meeting.data.get("duration", 0)) > now


def _listed(meeting: FakeMeeting) -> dict[str, Any]:
    """A meeting as the list shows it: no password, settings, start_url or recurrence."""
    data = meeting.data
    names = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "agenda", "created_at")
    return {**{name: data[name] for name in names if name in data}, "join_url": data["join_url"]}


def _user_id(email: str) -> str:
    digest = hashlib.sha256(email.encode("utf-8")).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _rate_limit_headers(until: datetime, kind: str) -> dict[str, str]:
    return {"Retry-After": format_datetime(until, usegmt=True), "X-RateLimit-Type": kind}


def _json_body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refused(400, 300, "Request Body should be a valid JSON object.")
    return body


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_body(status: int) -> dict[str, Any]:
    return {"code": status, "message": REASONS.get(status, f"HTTP {status}")}


def _zoom_json(body: Any, status: int = 200) -> Response:
    response = json_response(body, status)
    response.headers["x-zm-trackingid"] = "v=2.0;clid=us06;rid=WEB_" + secrets.token_hex(16)
    return response
