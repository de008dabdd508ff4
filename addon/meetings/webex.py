"""Webex Meetings: one meeting series per calendar event, found again by an integration tag, never created twice."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addon.meetings.http import Credentials, ServiceClient, ServiceResponse, segment
from addon.meetings.model import (
    DialIn,
    Meeting,
    MeetingGone,
    MeetingRejected,
    MeetingSpec,
    ServiceUnavailable,
)
from addon.meetings.oauth import OAuthApp

log = logging.getLogger(__name__)

WEBEX_SCOPES = ("meeting:schedules_read", "meeting:schedules_write", "meeting:preferences_read", "spark:kms")
TITLE_LIMIT = 128
AGENDA_LIMIT = 1300
INVITEE_LIMIT = 1000
SHORTEST_MEETING = timedelta(minutes=10)
LONGEST_MEETING = timedelta(hours=23, minutes=59)
# Listing only returns series overlapping [from, to), and Webex defaults that to the next 7 days.
LOOKUP_MARGIN = timedelta(days=1)


def webex_oauth_app(api_base: str, client_id: str, client_secret: str) -> OAuthApp:
    base = api_base.rstrip("/")
    return OAuthApp(
        provider="webex",
        display_name="Webex",
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/access_token",
        client_id=client_id,
        client_secret=client_secret,
        scopes=WEBEX_SCOPES,
        basic_auth=False,
    )


def integration_tag(idempotency_key: str) -> str:
    """The key as a Webex integration tag (at most 64 characters, readable only by this integration)."""
    return "addon-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


class WebexProvider:
    """Webex meetings scheduled as one user; Google Calendar, not Webex, emails the invitations."""

    name = "webex"

    def __init__(self, client: ServiceClient, credentials: Credentials, site_url: str | None = None) -> None:
        self.client = client
        self.credentials = credentials
        self.site_url = site_url
        self._default_site: str | None = None
        self._sites_read = False

    def create(self, spec: MeetingSpec, idempotency_key: str) -> Meeting:
        tag = integration_tag(idempotency_key)
        existing = self._find(tag, spec)
        if existing is not None:
            return existing
        body: dict[str, Any] = {**_schedule(spec), "invitees": _invitees(spec), "integrationTags": [tag]}
        if spec.options.template_id:
            body["templateId"] = spec.options.template_id
        site = self._site()
        if site:
            body["siteUrl"] = site
        try:
            response = self._call("POST", "/meetings", json=body)
        except ServiceUnavailable:
            # The answer may be lost while the meeting exists; a second POST would be a second meeting.
            found = self._find(tag, spec)
            if found is None:
                raise
            log.info("webex create failed but the meeting exists; using it")
            return found
        return self._meeting(response.body)

    def update(self, meeting_id: str, spec: MeetingSpec) -> Meeting:
        # PATCH takes neither invitees nor templateId; integrationTags stay unless sent.
        body = _schedule(spec, clearing=True)
        if self.site_url:
            body["siteUrl"] = self.site_url
        response = self._call("PATCH", f"/meetings/{segment(meeting_id)}", json=body)
        return self._meeting(response.body)

    def delete(self, meeting_id: str) -> None:
        try:
            self._call("DELETE", f"/meetings/{segment(meeting_id)}", params={"sendEmail": "false"})
        except MeetingGone:
            log.info("webex meeting was already deleted")

    def get(self, meeting_id: str) -> Meeting:
        return self._meeting(self._call("GET", f"/meetings/{segment(meeting_id)}").body)

    def _find(self, tag: str, spec: MeetingSpec) -> Meeting | None:
        params = {
            "integrationTag": tag,
            "meetingType": "meetingSeries",
            "from": _utc(spec.start - LOOKUP_MARGIN),
            "to": _utc(spec.end + LOOKUP_MARGIN),
        }
        items = self._call("GET", "/meetings", params=params).body.get("items")
        for item in items if isinstance(items, list) else []:
            # Trust the tag on the meeting, not the filter: reusing someone else's meeting would be far worse.
            if isinstance(item, dict) and tag in (item.get("integrationTags") or []):
                return self._meeting(item)
        return None

    def _site(self) -> str | None:
        if self.site_url:
            return self.site_url
        if not self._sites_read:
            sites = self._call("GET", "/meetingPreferences/sites").body.get("sites")
            self._default_site = next(
                (
                    str(site["siteUrl"])
                    for site in (sites if isinstance(sites, list) else [])
                    if isinstance(site, dict) and site.get("default") is True and site.get("siteUrl")
                ),
                None,  # without siteUrl Webex uses the user's preferred site anyway
            )
            self._sites_read = True
        return self._default_site

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> ServiceResponse:
        return self.client.call(method, path, self.credentials, params=params, json=json)

    def _meeting(self, body: Mapping[str, Any]) -> Meeting:
        meeting_id, join_url = body.get("id"), body.get("webLink")
        if not isinstance(meeting_id, str) or not meeting_id or not isinstance(join_url, str):
            raise MeetingRejected(self.name, "unexpected answer")
        if not join_url.startswith("https://"):
            raise MeetingRejected(self.name, "unexpected answer")
        telephony = body.get("telephony")
        numbers = telephony.get("callInNumbers") if isinstance(telephony, dict) else None
        dial_in = tuple(
            DialIn(
                label=str(number.get("label") or ""),
                number=str(number["callInNumber"]),
                toll_free=number.get("tollType") == "tollFree",
            )
            for number in (numbers if isinstance(numbers, list) else [])
            if isinstance(number, dict) and number.get("callInNumber")
        )
        return Meeting(
            provider=self.name,
            meeting_id=meeting_id,
            join_url=join_url,
            meeting_code=_text(body.get("meetingNumber")),
            passcode=_text(body.get("password")),
            dial_in=dial_in,
            sip_address=_text(body.get("sipAddress")),
        )


def _schedule(spec: MeetingSpec, clearing: bool = False) -> dict[str, Any]:
    """Title, times and options as Webex names them; `clearing` sends null for what the event no longer has."""
    options = spec.options
    body: dict[str, Any] = {
        "title": (spec.title.strip() or "Meeting")[:TITLE_LIMIT],
        **_times(spec),
        "enabledJoinBeforeHost": not options.waiting_room,
        "sendEmail": False,
    }
    agenda = spec.agenda[:AGENDA_LIMIT]
    recurrence = options.recurrence.removeprefix("RRULE:") if options.recurrence else None
    if agenda or clearing:
        body["agenda"] = agenda or None
    if recurrence or clearing:
        body["recurrence"] = recurrence
    if options.passcode:
        body["password"] = options.passcode
    return body


def _times(spec: MeetingSpec) -> dict[str, str]:
    """Start and end in the event's zone with that zone's offset: Webex refuses an offset that does not match."""
    # Webex takes 10 minutes to 23 h 59 min; a meeting may still run past its scheduled end.
    end = min(max(spec.end, spec.start + SHORTEST_MEETING), spec.start + LONGEST_MEETING)
    try:
        zone = ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return {"start": _utc(spec.start), "end": _utc(end)}
    return {
        "start": spec.start.astimezone(zone).isoformat(timespec="seconds"),
        "end": end.astimezone(zone).isoformat(timespec="seconds"),
        "timezone": spec.time_zone,
    }


def _invitees(spec: MeetingSpec) -> list[dict[str, Any]]:
    co_hosts = {email.strip().lower() for email in spec.options.alternative_hosts}
    seen: set[str] = set()
    invitees: list[dict[str, Any]] = []
    for email in (*spec.options.alternative_hosts, *spec.invitees):
        address = email.strip()
        if not address or address.lower() in seen:
            continue
        seen.add(address.lower())
        invitee: dict[str, Any] = {"email": address}
        if address.lower() in co_hosts:
            invitee["coHost"] = True
        invitees.append(invitee)
    return invitees[:INVITEE_LIMIT]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
