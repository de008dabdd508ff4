"""Webex Meetings: one meeting series per calendar event, found again by an integration tag, never created twice."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from addon.meetings.http import Credentials, ServiceClient, ServiceResponse, segment
from addon.meetings.model import (
    DialIn,
    GrantRevoked,
    KnownMeeting,
    Meeting,
    MeetingGone,
    MeetingRejected,
    MeetingSpec,
    NotConnected,
    ServiceUnavailable,
    aware_time,
    occurrence_start,
)
from addon.meetings.oauth import OAuthApp
from addon.meetings.webex_schedule import (
    AGENDA_LIMIT,
    INVITEE_LIMIT,
    TITLE_LIMIT,
    addresses,
    invitees,
    schedule,
    schedule_taken_as_sent,
    times,
    unchanged_schedule_left_out,
    utc,
    webex_password,
)
from addon.meetings.webex_sites import DefaultSites

log = logging.getLogger(__name__)

WEBEX_SCOPES = ("meeting:schedules_read", "meeting:schedules_write", "meeting:preferences_read", "spark:kms")
# Listing only returns series overlapping [from, to), and Webex defaults that to the next 7 days.
LOOKUP_MARGIN = timedelta(days=1)
PAGE_SIZE = 100  # the most Webex lists at once
MAX_PAGES = INVITEE_LIMIT // PAGE_SIZE + 2


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
    can_rotate_passcode = True
    # A series has scheduled meetings of its own, each with an id, that change and go one at a time.
    series_occurrences = True

    def __init__(
        self,
        client: ServiceClient,
        credentials: Credentials,
        site_url: str | None = None,
        *,
        sites: DefaultSites | None = None,
        user_id: str = "",
    ) -> None:
        self.client = client
        self.credentials = credentials
        self.site_url = site_url
        # Without a shared memory of sites, this provider (one request's) reads them at most once.
        self._sites = sites if sites is not None else DefaultSites()
        self._user_id = user_id

    def create(self, spec: MeetingSpec, idempotency_key: str, *, maybe_made: bool = True) -> Meeting:
        tag = integration_tag(idempotency_key)
        existing = self._find(tag, spec) if maybe_made else None
        if existing is not None:
            return existing
        body: dict[str, Any] = {**schedule(spec), "invitees": invitees(spec), "integrationTags": [tag]}
        if spec.options.template_id:
            body["templateId"] = spec.options.template_id
        site, remembered = self._site()
        try:
            response = self._post_meeting(body, site, remembered)
        except ServiceUnavailable:
            # The answer may be lost while the meeting exists; a second POST would be a second meeting.
            found = self._find(tag, spec)
            if found is None:
                raise
            log.info("webex create failed but the meeting exists; using it")
            return found
        return self._meeting(response.body)

    def completed(self, meeting: Meeting) -> Meeting:
        """The create's answer already carries every join detail, SIP address included."""
        return meeting

    def update(self, meeting_id: str, spec: MeetingSpec, *, known: KnownMeeting | None = None) -> Meeting:
        # PATCH takes neither invitees nor templateId; integrationTags stay unless sent.
        body = schedule(spec, clearing=True)
        if known is None or not schedule_taken_as_sent(spec):
            current = self._call("GET", f"/meetings/{segment(meeting_id)}").body
            body = unchanged_schedule_left_out(body, current)
        if self.site_url:
            body["siteUrl"] = self.site_url
        response = self._call("PATCH", f"/meetings/{segment(meeting_id)}", json=body)
        if known is None:
            self._follow_invitees(meeting_id, spec)
        else:
            self._follow_known_invitees(meeting_id, spec, known)
        return self._meeting(response.body)

    def rotate_passcode(self, meeting_id: str) -> Meeting:
        # PATCH changes only what it is sent: resending start would fail once a series has begun.
        body = {"password": webex_password(), "sendEmail": False}
        return self._meeting(self._call("PATCH", f"/meetings/{segment(meeting_id)}", json=body).body)

    def update_occurrence(self, meeting_id: str, original_start: datetime, spec: MeetingSpec) -> None:
        occurrence = self._occurrence_id(meeting_id, original_start)
        # An occurrence takes no recurrence, and its integration tags are the series'.
        body = {"title": (spec.title.strip() or "Meeting")[:TITLE_LIMIT], **times(spec), "sendEmail": False}
        body["agenda"] = spec.agenda[:AGENDA_LIMIT] or None
        self._call("PATCH", f"/meetings/{segment(occurrence)}", json=body)

    def cancel_occurrence(self, meeting_id: str, original_start: datetime) -> None:
        try:
            occurrence = self._occurrence_id(meeting_id, original_start)
            self._call("DELETE", f"/meetings/{segment(occurrence)}", params={"sendEmail": "false"})
        except MeetingGone:
            log.info("webex occurrence was already deleted")

    def delete(self, meeting_id: str) -> None:
        try:
            self._call("DELETE", f"/meetings/{segment(meeting_id)}", params={"sendEmail": "false"})
        except MeetingGone:
            log.info("webex meeting was already deleted")

    def get(self, meeting_id: str) -> Meeting:
        return self._meeting(self._call("GET", f"/meetings/{segment(meeting_id)}").body)

    def find(self, idempotency_key: str, start: datetime, end: datetime) -> Meeting | None:
        return self._find_between(integration_tag(idempotency_key), start, end)

    def _find(self, tag: str, spec: MeetingSpec) -> Meeting | None:
        return self._find_between(tag, spec.start, spec.end)

    def _find_between(self, tag: str, start: datetime, end: datetime) -> Meeting | None:
        params = {
            "integrationTag": tag,
            "meetingType": "meetingSeries",
            "from": utc(start - LOOKUP_MARGIN),
            "to": utc(end + LOOKUP_MARGIN),
        }
        items = self._call("GET", "/meetings", params=params).body.get("items")
        for item in items if isinstance(items, list) else []:
            # Trust the tag on the meeting, not the filter: reusing someone else's meeting would be far worse.
            if isinstance(item, dict) and tag in (item.get("integrationTags") or []):
                return self._meeting(item)
        return None

    def _post_meeting(self, body: dict[str, Any], site: str | None, remembered: bool) -> ServiceResponse:
        """POST the meeting on `site`; a remembered site that Webex refuses is read again, and tried once more."""
        try:
            return self._call("POST", "/meetings", json=_on_site(body, site))
        except MeetingRejected:
            if not remembered:
                raise
            # Perhaps remembered from an account the user has since replaced; a refused create made nothing.
            self._sites.forget(self._user_id)
            fresh, _ = self._site()
            if fresh == site:
                raise
            log.info("webex refused a remembered site; creating on the user's site as it is now")
            return self._call("POST", "/meetings", json=_on_site(body, fresh))

    def _follow_known_invitees(self, meeting_id: str, spec: MeetingSpec, known: KnownMeeting) -> None:
        """As _follow_invitees, from the guests the record says the meeting has: only a removal needs the list."""
        wanted = {invitee["email"].lower(): invitee for invitee in invitees(spec)}
        had = addresses((*known.alternative_hosts, *known.invitees))
        if had - wanted.keys() or addresses(known.alternative_hosts) != addresses(spec.options.alternative_hosts):
            # Removing takes the invitee's id, and so does making one co-host or not: read who is there.
            self._follow_invitees(meeting_id, spec)
            return
        for email, invitee in wanted.items():
            if email in had:
                continue
            try:
                self._call("POST", "/meetingInvitees", json={"meetingId": meeting_id, **invitee, "sendEmail": False})
            except MeetingRejected:
                # Already invited, say, by an earlier update whose answer was lost: the list says who is there.
                self._follow_invitees(meeting_id, spec)
                return

    def _follow_invitees(self, meeting_id: str, spec: MeetingSpec) -> None:
        """Make the invitees exactly the event's guests and alternative hosts: remove, then change, then add."""
        wanted = {invitee["email"].lower(): invitee for invitee in invitees(spec)}
        current = {
            str(item["email"]).lower(): item
            for item in self._pages("/meetingInvitees", {"meetingId": meeting_id, "max": str(PAGE_SIZE)})
            if item.get("id") and item.get("email")
        }
        for email, item in current.items():
            if email not in wanted:
                self._remove_invitee(str(item["id"]))
        for email, item in current.items():
            co_host = wanted.get(email, {}).get("coHost", False)
            if email in wanted and bool(item.get("coHost")) != co_host:
                body = {"email": item["email"], "coHost": co_host, "sendEmail": False}
                self._call("PUT", f"/meetingInvitees/{segment(str(item['id']))}", json=body)
        for email, invitee in wanted.items():
            if email not in current:
                # Not repeated on a lost answer (POST); the next update finds it listed and leaves it.
                self._call("POST", "/meetingInvitees", json={"meetingId": meeting_id, **invitee, "sendEmail": False})

    def _remove_invitee(self, invitee_id: str) -> None:
        try:
            self._call("DELETE", f"/meetingInvitees/{segment(invitee_id)}", params={"sendEmail": "false"})
        except MeetingGone:
            log.info("webex invitee was already removed")

    def _occurrence_id(self, series_id: str, original_start: datetime) -> str:
        """The scheduled meeting of the series that started at `original_start`; MeetingGone if there is none."""
        original = occurrence_start(original_start)
        # Webex names a scheduled meeting <series>_<original start in UTC>, and a moved one keeps its name.
        wanted = f"{series_id}_{original:%Y%m%dT%H%M%SZ}"
        params = {
            "meetingSeriesId": series_id,
            "meetingType": "scheduledMeeting",
            "from": utc(original - LOOKUP_MARGIN),
            "to": utc(original + LOOKUP_MARGIN),
            "max": str(PAGE_SIZE),
        }
        unmodified: str | None = None
        for item in self._pages("/meetings", params):
            if item.get("id") == wanted:
                return wanted
            if not item.get("isModified") and aware_time(item.get("start")) == original and item.get("id"):
                unmodified = str(item["id"])
        if unmodified is not None:
            return unmodified
        # Moved further than the listed window: ask for it by its name.
        found = self._call("GET", f"/meetings/{segment(wanted)}").body
        if found.get("meetingSeriesId") != series_id:
            raise MeetingGone(self.name, f"this series has no occurrence at {utc(original)}")
        return wanted

    def _pages(self, path: str, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """The items of a listing, page after page as the Link header leads, never off Webex's own host."""
        target = path
        query: Mapping[str, str] | None = params
        for _ in range(MAX_PAGES):
            response = self._call("GET", target, params=query)
            items = response.body.get("items")
            yield from (item for item in (items if isinstance(items, list) else []) if isinstance(item, dict))
            following = _next_page(response.headers.get("Link"))
            if following is None:
                return
            if not following.startswith(self.client.base_url + "/"):
                # Never send the token elsewhere; and half a listing would read as "not invited": refuse.
                raise MeetingRejected(self.name, "unexpected answer (next page on another host)")
            target, query = following[len(self.client.base_url) :], None
        raise MeetingRejected(self.name, "unexpected answer (too many pages)")

    def _site(self) -> tuple[str | None, bool]:
        """The site to create on, and whether it was remembered from an earlier read rather than read now."""
        if self.site_url:
            return self.site_url, False
        site, read_now = self._sites.site(self._user_id, self._read_default_site)
        return site, not read_now

    def _read_default_site(self) -> str | None:
        sites = self._call("GET", "/meetingPreferences/sites").body.get("sites")
        return next(
            (
                str(site["siteUrl"])
                for site in (sites if isinstance(sites, list) else [])
                if isinstance(site, dict) and site.get("default") is True and site.get("siteUrl")
            ),
            None,  # without siteUrl Webex uses the user's preferred site anyway
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> ServiceResponse:
        try:
            return self.client.call(method, path, self.credentials, params=params, json=json)
        except (GrantRevoked, NotConnected):
            # The next grant may be another Webex account, on other sites.
            self._sites.forget(self._user_id)
            raise

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


def _on_site(body: dict[str, Any], site: str | None) -> dict[str, Any]:
    return {**body, "siteUrl": site} if site else body


def _next_page(link: str | None) -> str | None:
    """The URL of the rel="next" page in a Link header, if there is one."""
    for part in (link or "").split(","):
        target, _, attributes = part.partition(";")
        if 'rel="next"' in attributes.replace(" ", ""):
            return target.strip().removeprefix("<").removesuffix(">")
    return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
