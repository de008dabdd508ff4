"""A fake of Webex's OAuth and Meetings REST API, served over real HTTP on 127.0.0.1.

It insists on what Webex documents: bearer tokens with the right scopes, single-use codes bound to a
PKCE challenge, the create rules (times, offsets, tags), tags private to their meetings, the 7-day
default window of a listing, the site's meeting password rules, invitees managed one by one through
/meetingInvitees, and the scheduled meetings of a series (named <series>_<original start in UTC>), which
change or go one at a time and revert when the series' start, end or recurrence changes. Listings come
in pages linked by a Link header. It can be told to fail or stall.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import count
from typing import Any, Literal
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import json_response
from tests.fakes.oauth_server import Grant, OAuthRules, OAuthServerFake, OAuthState, Refusal, Refusals

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
SERIES_REACH = timedelta(days=5 * 366)  # a series reaches at most five years out
PAGE_DEFAULT, PAGE_MAX = 10, 100
INVITEE_LIMIT = 1000
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Characters no Webex meeting password may hold (Meeting Center guide); at most 16 characters.
REFUSED_IN_PASSWORD = frozenset(' \\`"/&<>=[]')
LONGEST_PASSWORD = 16
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
class FakeMeeting:
    data: dict[str, Any]  # the MeetingSeriesObject Webex answers with
    host: str
    invitees: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    deleted: bool = False
    # Scheduled meetings changed on their own, by id: new "starts_at"/"ends_at"/"title"/"agenda"/"password",
    # or "deleted".
    exceptions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class PasswordRules:
    """A site's rules for meeting passwords (Site Administration, Security Options); strong ones by default."""

    min_length: int = 8
    mixed_case: bool = True
    min_digits: int = 1
    min_symbols: int = 0


def default_sites() -> list[dict[str, Any]]:
    return [
        {"siteUrl": "corp-events.webex.com", "default": False},
        {"siteUrl": "corp.webex.com", "default": True},
    ]


@dataclass
class FakeWebexState(OAuthState):
    meetings: dict[str, FakeMeeting] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=default_sites)
    password_rules: PasswordRules = field(default_factory=PasswordRules)
    # (recipient, what): the emails Webex itself would have sent.
    emails_sent: list[tuple[str, str]] = field(default_factory=list)


class FakeWebex(OAuthServerFake):
    """Webex's /authorize and /access_token, /meetingPreferences/sites, /meetings and /meetingInvitees, under /v1.

    Its refresh tokens stay the same across refreshes unless `rotate_refresh_tokens` is set, and connecting
    again leaves the earlier grants working.
    """

    oauth_rules = OAuthRules(
        token_prefix="wx",
        token_bytes=24,
        access_token_seconds=ACCESS_TOKEN_SECONDS,
        code_seconds=None,
        known_scopes=KNOWN_SCOPES,
        granted_scopes=GRANTED_SCOPES,
        client_in_form=True,
        reauthorizing_ends_grants=False,
        refusals=Refusals(
            not_form=Refusal(400, "invalid_request", "The request must be form-encoded."),
            bad_client=Refusal(401, "invalid_client", "Client authentication failed."),
            unknown_code=Refusal(400, "invalid_grant", "The authorization code is invalid or expired."),
            redirect_mismatch=Refusal(400, "invalid_grant", "The authorization code is invalid or expired."),
            wrong_verifier=Refusal(400, "invalid_grant", "The code verifier does not match the challenge."),
            unknown_refresh_token=Refusal(
                400, "invalid_grant", "The refresh token provided is expired, revoked, malformed, or invalid."
            ),
            unsupported_grant_type=Refusal(400, "unsupported_grant_type", "Unsupported grant_type {grant_type!r}."),
        ),
    )

    def __init__(
        self,
        client_id: str = "webex-client-id",
        client_secret: str = "webex-client-secret",
        redirect_uris: tuple[str, ...] | None = None,
    ) -> None:
        self.state = FakeWebexState()
        super().__init__(client_id, client_secret, redirect_uris)

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
    def password_rules(self) -> PasswordRules:
        """The site's password rules; change its fields to make the site stricter or looser."""
        return self.state.password_rules

    def occurrences(self, series_id: str) -> list[dict[str, Any]]:
        """The scheduled meetings of a series that are not deleted, as Webex lists them, in original order."""
        with self._lock:
            meeting = self.state.meetings[series_id]
            return [
                _occurrence(series_id, meeting, original)
                for original in _original_starts(meeting)
                if not meeting.exceptions.get(_occurrence_id(series_id, original), {}).get("deleted")
            ]

    @property
    def emails_sent(self) -> list[tuple[str, str]]:
        return list(self.state.emails_sent)

    # Serving -------------------------------------------------------------------------------

    def _failure_response(self, status: int, body: dict[str, Any] | None) -> Response:
        return _webex_json(body if body is not None else _error_body(_reason(status)), status)

    def _route(self, request: Request) -> Response:
        with self._lock:
            return self._answer(request)

    def _answer(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        routes = {
            ("GET", "v1/authorize"): self._authorize,
            ("POST", "v1/access_token"): self._token,
            ("GET", "v1/meetingPreferences/sites"): self._sites,
            ("GET", "v1/meetings"): self._list_meetings,
            ("POST", "v1/meetings"): self._create_meeting,
            ("GET", "v1/meetingInvitees"): self._list_invitees,
            ("POST", "v1/meetingInvitees"): self._create_invitee,
        }
        try:
            handler = routes.get((request.method, "/".join(parts)))
            if handler is not None:
                return handler(request)
            if parts[:2] == ["v1", "meetings"] and len(parts) == 3:
                one = {"GET": self._get_meeting, "PATCH": self._patch_meeting, "DELETE": self._delete_meeting}
                if "_" in parts[2]:  # <series>_<original start>: one scheduled meeting of a series
                    one = {
                        "GET": self._get_occurrence,
                        "PATCH": self._patch_occurrence,
                        "DELETE": self._delete_occurrence,
                    }
                if request.method in one:
                    return one[request.method](request, parts[2])
                raise Refused(405, "Method not allowed.")
            if parts[:2] == ["v1", "meetingInvitees"] and len(parts) == 3:
                one = {"GET": self._get_invitee, "PUT": self._update_invitee, "DELETE": self._delete_invitee}
                if request.method in one:
                    return one[request.method](request, parts[2])
                raise Refused(405, "Method not allowed.")
            raise Refused(404, "The requested resource could not be found.")
        except Refused as refusal:
            return _webex_json(_error_body(refusal.message), refusal.status)

    # OAuth, in Webex's words ---------------------------------------------------------------

    def _token_answer(self, access_token: str, refresh_token: str, grant: Grant) -> dict[str, Any]:
        return {
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_token": refresh_token,
            "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
            "token_type": "Bearer",
        }

    def _oauth_error(self, refusal: Refusal) -> Response:
        return json_response({"error": refusal.error, "error_description": refusal.description}, refusal.status)

    def _unsafe_authorize(self, what: Literal["client_id", "redirect_uri"]) -> Response:
        return _webex_json(_error_body(f"Invalid {what}."), 400)

    def _caller(self, request: Request, scope: str) -> str:
        grant = self._bearer_grant(request)
        if grant is None:
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
        if args.get("meetingSeriesId"):
            return self._list_occurrences(request, email)
        if args.get("meetingType", "meetingSeries") != "meetingSeries":
            return _webex_json({"items": []})  # scheduled meetings are listed by series only
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
        fields = _checked_fields(body, self.state.password_rules)
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
            "password": body.get("password") or _generated_password(),
            "phoneAndVideoSystemPassword": _numeric_password(),
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
        fields = _checked_fields(body, self.state.password_rules)
        if body.get("siteUrl") not in (None, meeting.data["siteUrl"]):
            raise Refused(400, "siteUrl cannot be changed.")
        schedule = (meeting.starts_at, meeting.ends_at, meeting.data.get("recurrence"))
        password = meeting.data["password"]
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
        if meeting.data["password"] != password:
            meeting.data["phoneAndVideoSystemPassword"] = _numeric_password()  # Webex derives one from the other
        if schedule != (meeting.starts_at, meeting.ends_at, meeting.data.get("recurrence")):
            meeting.exceptions.clear()  # "any exceptional scheduled meeting in this series is cancelled"
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

    # Scheduled meetings of a series ---------------------------------------------------------

    def _list_occurrences(self, request: Request, email: str) -> Response:
        args = request.args
        meeting = self._owned(args["meetingSeriesId"], email)
        if args.get("meetingType", "scheduledMeeting") != "scheduledMeeting":
            return _webex_json({"items": []})  # started and ended instances are not modelled
        start = _parse_time(args["from"], "from", UTC) if args.get("from") else datetime.now(UTC)
        end = _parse_time(args["to"], "to", UTC) if args.get("to") else start + LIST_WINDOW
        if start > end:
            raise Refused(400, "from cannot be after to.")
        series_id = args["meetingSeriesId"]
        items = []
        for original in _original_starts(meeting):
            changes = meeting.exceptions.get(_occurrence_id(series_id, original), {})
            if not changes.get("deleted") and start <= changes.get("starts_at", original) < end:
                items.append(_occurrence(series_id, meeting, original))
        items.sort(key=lambda item: _parse_time(item["start"], "start", UTC))
        return _paged(request, items)

    def _get_occurrence(self, request: Request, occurrence_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_read")
        series_id, meeting, original = self._owned_occurrence(occurrence_id, email)
        return _webex_json(_occurrence(series_id, meeting, original))

    def _patch_occurrence(self, request: Request, occurrence_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        series_id, meeting, original = self._owned_occurrence(occurrence_id, email)
        body = _json_body(request)
        if "recurrence" in body:
            raise Refused(400, "recurrence can only be set for a meeting series.")
        if "integrationTags" in body:
            raise Refused(400, "integrationTags cannot be updated for a scheduled meeting.")
        fields = _checked_fields(body, self.state.password_rules)
        current = _occurrence(series_id, meeting, original)
        changes = meeting.exceptions.setdefault(occurrence_id, {})
        if {"start", "end", "timezone"} & body.keys():
            merged = {k: body.get(k, current[k]) for k in ("start", "end", "timezone")}
            changes["starts_at"], changes["ends_at"], _ = _checked_times(merged)
        for name in ("title", "agenda", "password"):
            if name in body and (fields.get(name) or name == "agenda"):
                changes[name] = fields[name]
        if body.get("sendEmail", True):
            title = _occurrence(series_id, meeting, original)["title"]
            self._email([email, *(i["email"] for i in meeting.invitees)], "update: " + title)
        return _webex_json(_occurrence(series_id, meeting, original))

    def _delete_occurrence(self, request: Request, occurrence_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        series_id, meeting, original = self._owned_occurrence(occurrence_id, email)
        title = _occurrence(series_id, meeting, original)["title"]
        meeting.exceptions.setdefault(occurrence_id, {})["deleted"] = True
        if request.args.get("sendEmail", "true") != "false":
            self._email([email, *(i["email"] for i in meeting.invitees)], "cancellation: " + title)
        return Response(status=204)

    def _owned_occurrence(self, occurrence_id: str, email: str) -> tuple[str, FakeMeeting, datetime]:
        series_id, _, stamp = occurrence_id.rpartition("_")
        meeting = self._owned(series_id, email)
        try:
            wanted = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise Refused(404, "Meeting not found.") from None
        for original in _original_starts(meeting):
            if original >= wanted:
                break
        else:
            raise Refused(404, "Meeting not found.")
        if original != wanted or meeting.exceptions.get(occurrence_id, {}).get("deleted"):
            raise Refused(404, "Meeting not found.")
        return series_id, meeting, original

    # Invitees --------------------------------------------------------------------------------

    def _list_invitees(self, request: Request) -> Response:
        email = self._caller(request, "meeting:schedules_read")
        meeting_id = request.args.get("meetingId")
        if not meeting_id:
            raise Refused(400, "meetingId cannot be empty.")
        meeting = self._owned(meeting_id, email)
        invitees = sorted(meeting.invitees, key=lambda invitee: invitee["email"].lower())
        return _paged(request, [_invitee(meeting_id, invitee) for invitee in invitees])

    def _create_invitee(self, request: Request) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        body = _json_body(request)
        meeting_id = body.get("meetingId")
        if not meeting_id:
            raise Refused(400, "meetingId cannot be empty.")
        meeting = self._owned(str(meeting_id), email)
        (invitee,) = _checked_invitees([_invitee_fields(body)])
        if any(i["email"].lower() == invitee["email"].lower() for i in meeting.invitees):
            raise Refused(409, f"{invitee['email']} is already invited to this meeting.")
        if len(meeting.invitees) >= INVITEE_LIMIT:
            raise Refused(400, f"A meeting can have at most {INVITEE_LIMIT} invitees.")
        meeting.invitees.append(invitee)
        if body.get("sendEmail", True):
            self._email([invitee["email"]], "invitation: " + meeting.data["title"])
        return _webex_json(_invitee(str(meeting_id), invitee))

    def _get_invitee(self, request: Request, invitee_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_read")
        meeting_id, _, invitee = self._owned_invitee(invitee_id, email)
        return _webex_json(_invitee(meeting_id, invitee))

    def _update_invitee(self, request: Request, invitee_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        meeting_id, meeting, invitee = self._owned_invitee(invitee_id, email)
        body = _json_body(request)
        (changed,) = _checked_invitees([_invitee_fields(body)])
        if any(i is not invitee and i["email"].lower() == changed["email"].lower() for i in meeting.invitees):
            raise Refused(409, f"{changed['email']} is already invited to this meeting.")
        invitee.clear()
        invitee.update(changed)
        if body.get("sendEmail", True):
            self._email([invitee["email"]], "update: " + meeting.data["title"])
        return _webex_json(_invitee(meeting_id, invitee))

    def _delete_invitee(self, request: Request, invitee_id: str) -> Response:
        email = self._caller(request, "meeting:schedules_write")
        _, meeting, invitee = self._owned_invitee(invitee_id, email)
        meeting.invitees.remove(invitee)
        if request.args.get("sendEmail", "true") != "false":
            self._email([invitee["email"]], "cancellation: " + meeting.data["title"])
        return Response(status=204)

    def _owned_invitee(self, invitee_id: str, email: str) -> tuple[str, FakeMeeting, dict[str, Any]]:
        meeting_id, _, _ = invitee_id.rpartition("_")
        meeting = self._owned(meeting_id, email)
        for invitee in meeting.invitees:
            if _invitee_id(meeting_id, invitee["email"]) == invitee_id:
                return meeting_id, meeting, invitee
        raise Refused(404, "Meeting invitee not found.")

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


def _checked_fields(body: dict[str, Any], rules: PasswordRules) -> dict[str, Any]:
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
    problem = _password_problem(body["password"], rules) if "password" in body else None
    if problem:
        raise Refused(400, f"Meeting password validation failed: {problem}")
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


def _password_problem(password: str, rules: PasswordRules) -> str | None:
    """What the site's rules find wrong with a meeting password, in the words of a refusal; None if nothing."""
    if not rules.min_length <= len(password) <= LONGEST_PASSWORD:
        return f"The password must have {rules.min_length} to {LONGEST_PASSWORD} characters."
    if REFUSED_IN_PASSWORD & set(password):
        return 'The password cannot contain spaces or any of \\ ` " / & < > = [ ].'
    if rules.mixed_case and not (any(c.isupper() for c in password) and any(c.islower() for c in password)):
        return "The password must contain both upper and lower case letters."
    if sum(c.isdigit() for c in password) < rules.min_digits:
        return f"The password must contain at least {rules.min_digits} numeric characters."
    if not any(c.isalpha() for c in password):
        return "The password must contain at least 1 alphabetic character."
    if sum(not c.isalnum() for c in password) < rules.min_symbols:
        return f"The password must contain at least {rules.min_symbols} special characters."
    return None


def _generated_password() -> str:
    """A password as Webex makes one when none is given, e.g. "BgJep@43"."""
    capital, small = secrets.choice(string.ascii_uppercase), secrets.choice(string.ascii_lowercase)
    letters = "".join(secrets.choice(string.ascii_letters) for _ in range(3))
    return f"{capital}{small}{letters}@{secrets.randbelow(90) + 10}"


def _numeric_password() -> str:
    return str(secrets.randbelow(9 * 10**7) + 10**7)


def _original_starts(meeting: FakeMeeting) -> Iterator[datetime]:
    """When each scheduled meeting of the series was due, in UTC and in order, as its RRULE repeats the first.

    DAILY, WEEKLY and MONTHLY (Webex takes only the first BYDAY or BYMONTHDAY of a monthly rule), with
    INTERVAL, BYDAY, COUNT and UNTIL; a series reaches five years out at most. Other rules are not modelled.
    """
    rule = meeting.data.get("recurrence")
    if not rule:
        yield meeting.starts_at
        return
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    zone = ZoneInfo(meeting.data["timezone"])
    first = meeting.starts_at.astimezone(zone)
    if parts.keys() - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "WKST"} or parts.get(
        "FREQ"
    ) not in ("DAILY", "WEEKLY", "MONTHLY"):
        raise Refused(501, f"The fake Webex does not model the recurrence {rule!r}.")
    last = first + SERIES_REACH
    if "UNTIL" in parts:
        last = min(last, _until(parts["UNTIL"], zone))
    remaining = int(parts["COUNT"]) if "COUNT" in parts else None
    for day in _rule_days(parts, first.date()):
        moment = datetime.combine(day, first.time(), zone)
        if moment < first:
            continue
        if moment > last or remaining == 0:
            return
        if remaining is not None:
            remaining -= 1
        yield moment.astimezone(UTC)


def _rule_days(parts: dict[str, str], first: date) -> Iterator[date]:
    """Every day the rule names from the period of `first` on, in order (the caller stops the endless list)."""
    interval = int(parts.get("INTERVAL", "1"))
    weekdays = sorted(WEEKDAYS.index(day[-2:]) for day in parts.get("BYDAY", "").split(",") if day)
    if parts["FREQ"] == "DAILY":
        for step in count():
            day = first + timedelta(days=step * interval)
            if not weekdays or day.weekday() in weekdays:
                yield day
    elif parts["FREQ"] == "WEEKLY":
        monday = first - timedelta(days=first.weekday())
        for step in count():
            for weekday in weekdays or [first.weekday()]:
                yield monday + timedelta(days=step * interval * 7 + weekday)
    else:
        month_day = int(parts.get("BYMONTHDAY", str(first.day)).split(",")[0])
        for step in count():
            year, month = divmod(first.month - 1 + step * interval, 12)
            try:
                yield date(first.year + year, month + 1, month_day)
            except ValueError:
                continue  # a month without that day has no meeting


def _until(value: str, zone: tzinfo) -> datetime:
    if len(value) == 8:
        return datetime.combine(date(int(value[:4]), int(value[4:6]), int(value[6:])), time(23, 59, 59), zone)
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)


def _occurrence_id(series_id: str, original: datetime) -> str:
    return f"{series_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _occurrence(series_id: str, meeting: FakeMeeting, original: datetime) -> dict[str, Any]:
    """One scheduled meeting of a series as Webex answers it: the series' fields with its own id, times and changes."""
    occurrence_id = _occurrence_id(series_id, original)
    changes = meeting.exceptions.get(occurrence_id, {})
    zone_name = meeting.data["timezone"]
    starts_at = changes.get("starts_at", original)
    ends_at = changes.get("ends_at", original + (meeting.ends_at - meeting.starts_at))
    data = {k: v for k, v in meeting.data.items() if k != "recurrence"}
    data.update(
        id=occurrence_id,
        meetingSeriesId=series_id,
        meetingType="scheduledMeeting",
        state="scheduled",
        isModified=any(k != "deleted" for k in changes),
        start=_format_time(starts_at, zone_name),
        end=_format_time(ends_at, zone_name),
    )
    for name in ("title", "agenda", "password"):
        if name in changes:
            data[name] = changes[name]
            if changes[name] is None:
                data.pop(name)
    return data


def _invitee_id(meeting_id: str, email: str) -> str:
    return f"{meeting_id}_{int(hashlib.sha256(email.lower().encode()).hexdigest()[:7], 16)}"


def _invitee_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What an invitee keeps of a request: email, display name, and coHost only when true (as create stores it)."""
    kept = {k: body[k] for k in ("email", "displayName") if k in body}
    return {**kept, "coHost": True} if body.get("coHost") else kept


def _invitee(meeting_id: str, invitee: dict[str, Any]) -> dict[str, Any]:
    """An invitee as /meetingInvitees answers it."""
    return {
        "id": _invitee_id(meeting_id, invitee["email"]),
        "email": invitee["email"],
        "displayName": invitee.get("displayName") or invitee["email"],
        "coHost": bool(invitee.get("coHost")),
        "meetingId": meeting_id,
        "panelist": False,
    }


def _paged(request: Request, items: list[dict[str, Any]]) -> Response:
    """One page of `items` (`max`, default 10, at most 100), with a Link header to the next page if any."""
    try:
        size = min(PAGE_MAX, max(1, int(request.args.get("max", str(PAGE_DEFAULT)))))
        cursor = request.args.get("cursor")
        offset = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
    except ValueError:
        raise Refused(400, "Invalid max or cursor.") from None
    response = _webex_json({"items": items[offset : offset + size]})
    if offset + size < len(items):
        cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        query = urlencode({**request.args.to_dict(), "max": str(size), "cursor": cursor})
        response.headers["Link"] = f'<{request.host_url.rstrip("/")}{request.path}?{query}>; rel="next"'
    return response


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
