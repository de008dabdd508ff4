"""What the tests of Zoom and Webex share: meetings to schedule, the OAuth round trip, and one adapter per service.

An adapter says what differs between the two where their behaviour is the same: names and paths, the
service's own words, and how to read a meeting back from its fake.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests

from addon.meetings import oauth
from addon.meetings.http import ServiceClient
from addon.meetings.model import KnownMeeting, Meeting, MeetingOptions, MeetingSpec
from addon.meetings.oauth import OAuthApp, Pkce
from addon.meetings.webex import WebexProvider, webex_oauth_app
from addon.meetings.zoom import ZoomProvider, zoom_oauth_app
from tests.fakes.credentials import TokenCredentials
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom

ALICE = "alice@corp.example"
KEY = "alice@corp.example/primary/evt_abc123"
WEEKLY = MeetingOptions(recurrence="FREQ=WEEKLY;COUNT=4")

ServiceFake = FakeZoom | FakeWebex
MeetingProvider = ZoomProvider | WebexProvider


def at(days: int = 30, hour: int = 10, zone: str = "Europe/Berlin") -> datetime:
    """A time `days` ahead, at `hour` o'clock in `zone`: later than Webex lists by default (7 days)."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))


def a_spec(start: datetime | None = None, minutes: int = 30, **fields: object) -> MeetingSpec:
    start = start or at()
    values: dict = {
        "title": "Design review",
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "time_zone": "Europe/Berlin",
        "invitees": ("bob@corp.example", "carol@partner.example"),
        "agenda": "Review the Q3 design",
        **fields,
    }
    return MeetingSpec(**values)


def known(meeting: Meeting, spec: MeetingSpec, key: str = KEY) -> KnownMeeting:
    """What a caller's record knows of a meeting it made or updated from `spec`."""
    return KnownMeeting(
        idempotency_key=key,
        join_url=meeting.join_url,
        invitees=spec.invitees,
        no_fixed_time=meeting.no_fixed_time,
        alternative_hosts=spec.options.alternative_hosts,
    )


def calls_since(fake: ServiceFake, seen: int) -> list[tuple[str, str]]:
    """The API calls (method, path) the fake answered after the first `seen` requests, OAuth left out."""
    return [(r.method, r.path) for r in fake.state.requests[seen:] if r.path.startswith(("/v1/", "/v2/"))]


def authorize(oauth_app: OAuthApp, pkce: Pkce, redirect_uri: str, state: str = "st-123") -> dict[str, list[str]]:
    """The user approves (or declines) in the service's consent page: the query it sends the browser back with."""
    answer = requests.get(
        oauth.authorization_url(oauth_app, redirect_uri, state, pkce), allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(redirect_uri + "?")
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


@dataclasses.dataclass(frozen=True)
class PasscodeRefusal:
    """A rule that makes the service refuse new passcodes, and what its refusal says (a regular expression)."""

    name: str
    arrange: Callable[[Any], None]
    says: str


class MeetingService:
    """One meeting service as the shared tests see it."""

    name: str
    redirect_uri: str
    create_path: str  # POST makes a meeting, GET lists them
    meeting_path: str  # one meeting is this and its id
    unknown_meeting_id: str
    # What the service says of a refresh token it no longer honours, and of a code with the wrong verifier.
    refresh_refusal: str
    verifier_refusal: str
    # How long a new access token lasts: more than the first, at most the second.
    access_lifetime: tuple[timedelta, timedelta]
    # The client secret goes as HTTP Basic (else in the form); scopes are asked for in the URL.
    basic_auth: bool
    asks_scopes: bool
    # How far a Retry-After read back may be from the one sent (a date has whole seconds only).
    retry_after_slack: float
    # Headers of a rate limit short enough to wait out; None: the fake's own for a 429.
    short_rate_limit: dict[str, str] | None
    # The body of a 401 for an access token the service refuses; None: the fake's own.
    unauthorized_body: dict[str, Any] | None
    refusal: str  # what the service says of `refused_spec`
    # The calls `completed` makes for a meeting just created (Zoom's SIP address takes one of its own).
    completing_calls: tuple[str, ...]
    passcode_refusals: tuple[PasscodeRefusal, ...]

    def oauth_app(self, fake: Any) -> OAuthApp:
        raise NotImplementedError

    def provider(self, client: ServiceClient, credentials: TokenCredentials) -> Any:
        raise NotImplementedError

    def posted(self, fake: ServiceFake) -> list[dict]:
        """The bodies of every create sent."""
        return [r.get_json() for r in fake.requests_to("POST", self.create_path)]

    def listings(self, fake: ServiceFake) -> int:
        """How often meetings were listed (or read), to find one made before."""
        return len(fake.requests_to("GET", self.create_path))

    def gone(self, meeting_id: str) -> str:
        """What the service says of a deleted meeting (a regular expression)."""
        raise NotImplementedError

    def rate_limit(self, seconds: int) -> dict[str, str]:
        """The headers of a rate limit that asks for `seconds`, as the service sends them."""
        raise NotImplementedError

    def incomplete_answers(self, meeting: Meeting) -> list[dict[str, Any]]:
        """Answers to a read that lack the meeting's id or its join link."""
        raise NotImplementedError

    def refused_spec(self) -> MeetingSpec:
        """A meeting the service refuses, though the add-on sends it."""
        raise NotImplementedError

    def joins_before_host(self, fake: Any, meeting_id: str) -> bool:
        raise NotImplementedError

    def host(self, fake: Any, meeting_id: str) -> str:
        """Whom the service names as the meeting's host."""
        raise NotImplementedError

    def schedule(self, fake: Any, meeting_id: str) -> tuple[str, datetime, int]:
        """The meeting's title, start and length in minutes, as the service keeps them."""
        raise NotImplementedError

    def invited(self, fake: Any, meeting_id: str) -> list[str]:
        """Whom the service lists as invited, in the order they were invited."""
        raise NotImplementedError

    def make_passcodes_strict(self, fake: Any) -> None:
        """The strictest passcode rules the add-on's new passcodes must still meet."""
        raise NotImplementedError


class ZoomService(MeetingService):
    name = "zoom"
    redirect_uri = "https://addon.test/oauth/zoom/callback"
    create_path = "/v2/users/me/meetings"
    meeting_path = "/v2/meetings/"
    unknown_meeting_id = "12345678901"
    refresh_refusal = "Invalid Token!"
    verifier_refusal = "code_verifier"
    access_lifetime = (timedelta(minutes=55), timedelta(hours=1))
    basic_auth = True
    asks_scopes = False  # a Zoom app's scopes come from its registration
    retry_after_slack = 1.5
    short_rate_limit = None  # the fake's own: a date one second ahead
    unauthorized_body: ClassVar[dict[str, Any] | None] = {"code": 124, "message": "Invalid access token."}
    refusal = "end_times must be between 1 and 50"
    completing_calls = ("POST /v2/meetings/{id}/sip_dialing",)
    passcode_refusals = (
        PasscodeRefusal(
            "only-numeric",
            lambda zoom: setattr(zoom.passcode_requirement, "only_numeric", True),
            re.escape("passcode requirement: it needs only numbers"),
        ),
        PasscodeRefusal(
            "special-character",
            lambda zoom: setattr(zoom.passcode_requirement, "special_character", True),
            re.escape("passcode requirement: it needs a special character"),
        ),
    )

    def oauth_app(self, fake: FakeZoom) -> OAuthApp:
        return zoom_oauth_app(fake.oauth_base, fake.client_id, fake.client_secret)

    def provider(self, client: ServiceClient, credentials: TokenCredentials) -> ZoomProvider:
        return ZoomProvider(client, credentials)

    def gone(self, meeting_id: str) -> str:
        return f"Meeting does not exist: {meeting_id}"

    def rate_limit(self, seconds: int) -> dict[str, str]:
        retry_at = datetime.now(UTC) + timedelta(seconds=seconds)
        return {"Retry-After": format_datetime(retry_at, usegmt=True), "X-RateLimit-Type": "QPS"}

    def incomplete_answers(self, meeting: Meeting) -> list[dict[str, Any]]:
        return [{"id": int(meeting.meeting_id)}, {"join_url": meeting.join_url}]

    def refused_spec(self) -> MeetingSpec:
        return a_spec(options=MeetingOptions(recurrence="FREQ=WEEKLY;BYDAY=MO;COUNT=60"))

    def joins_before_host(self, fake: FakeZoom, meeting_id: str) -> bool:
        return fake.meetings[meeting_id].data["settings"]["join_before_host"]

    def host(self, fake: FakeZoom, meeting_id: str) -> str:
        return fake.meetings[meeting_id].host

    def schedule(self, fake: FakeZoom, meeting_id: str) -> tuple[str, datetime, int]:
        meeting = fake.meetings[meeting_id]
        assert meeting.starts_at is not None
        return meeting.data["topic"], meeting.starts_at, meeting.data["duration"]

    def invited(self, fake: FakeZoom, meeting_id: str) -> list[str]:
        return [invitee["email"] for invitee in fake.meetings[meeting_id].data["settings"]["meeting_invitees"]]

    def make_passcodes_strict(self, fake: FakeZoom) -> None:
        requirement = fake.passcode_requirement
        requirement.min_length, requirement.letter, requirement.number, requirement.upper_and_lower = (
            10,
            True,
            True,
            True,
        )


class WebexService(MeetingService):
    name = "webex"
    redirect_uri = "https://addon.test/oauth/webex/callback"
    create_path = "/v1/meetings"
    meeting_path = "/v1/meetings/"
    unknown_meeting_id = "never-existed"
    refresh_refusal = "The refresh token provided is expired, revoked, malformed, or invalid."
    verifier_refusal = "code verifier"
    access_lifetime = (timedelta(days=13), timedelta(days=14))
    basic_auth = False
    asks_scopes = True
    retry_after_slack = 0.0  # Webex sends seconds
    short_rate_limit: ClassVar[dict[str, str] | None] = {"Retry-After": "0"}
    unauthorized_body = None
    refusal = "start cannot be before current date and time"
    completing_calls = ()
    passcode_refusals = (
        PasscodeRefusal(
            "too-short",
            lambda webex: setattr(webex.password_rules, "min_length", 14),
            "^" + re.escape("Meeting password validation failed: The password must have 14"),
        ),
    )

    def oauth_app(self, fake: FakeWebex) -> OAuthApp:
        return webex_oauth_app(fake.api_base, fake.client_id, fake.client_secret)

    def provider(self, client: ServiceClient, credentials: TokenCredentials) -> WebexProvider:
        return WebexProvider(client, credentials)

    def gone(self, meeting_id: str) -> str:
        return "Meeting has been deleted"

    def rate_limit(self, seconds: int) -> dict[str, str]:
        return {"Retry-After": str(seconds)}

    def incomplete_answers(self, meeting: Meeting) -> list[dict[str, Any]]:
        return [{"id": meeting.meeting_id}, {"webLink": meeting.join_url}]

    def refused_spec(self) -> MeetingSpec:
        return a_spec(datetime.now(UTC) - timedelta(days=1))

    def joins_before_host(self, fake: FakeWebex, meeting_id: str) -> bool:
        return fake.meetings[meeting_id].data["enabledJoinBeforeHost"]

    def host(self, fake: FakeWebex, meeting_id: str) -> str:
        return fake.meetings[meeting_id].data["hostEmail"]

    def schedule(self, fake: FakeWebex, meeting_id: str) -> tuple[str, datetime, int]:
        meeting = fake.meetings[meeting_id]
        return (
            meeting.data["title"],
            meeting.starts_at,
            int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
        )

    def invited(self, fake: FakeWebex, meeting_id: str) -> list[str]:
        return [invitee["email"] for invitee in fake.meetings[meeting_id].invitees]

    def make_passcodes_strict(self, fake: FakeWebex) -> None:
        fake.password_rules.min_symbols = 1


ZOOM = ZoomService()
WEBEX = WebexService()
