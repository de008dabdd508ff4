"""Zoom meetings: one meeting per calendar event, found again by a marker in its agenda, never created twice."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import secrets
import string
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addon.meetings.http import Credentials, ServiceClient, ServiceResponse, segment
from addon.meetings.model import (
    DialIn,
    GrantRevoked,
    KnownMeeting,
    Meeting,
    MeetingGone,
    MeetingRejected,
    MeetingServiceError,
    MeetingSpec,
    ServiceUnavailable,
    aware_time,
    occurrence_start,
)
from addon.meetings.oauth import OAuthApp

log = logging.getLogger(__name__)

PROVIDER = "zoom"
TOPIC_LIMIT = 200
AGENDA_LIMIT = 2000
PASSCODE = re.compile(r"[A-Za-z0-9@\-_*]{1,10}")
PASSCODE_LENGTH = 10
MARKER = re.compile(r"\[ref:[0-9a-f]{16}\]")
LIST_PAGE_SIZE = 300
LIST_PAGES = 5
SCHEDULED = 2
RECURRING_ANY_TIME = 3
RECURRING_FIXED_TIME = 8
# Zoom numbers weekdays from Sunday = 1.
WEEKDAYS = {"SU": 1, "MO": 2, "TU": 3, "WE": 4, "TH": 5, "FR": 6, "SA": 7}
MONTH_WEEKS = (-1, 1, 2, 3, 4)
MONTHLY_BYDAY = re.compile(r"([+-]?\d)?(SU|MO|TU|WE|TH|FR|SA)")


def zoom_oauth_app(oauth_base: str, client_id: str, client_secret: str) -> OAuthApp:
    """Zoom's user-level OAuth app; the scopes come from the app's registration, not the URL."""
    base = oauth_base.rstrip("/")
    return OAuthApp(
        provider=PROVIDER,
        display_name="Zoom",
        authorize_url=f"{base}/oauth/authorize",
        token_url=f"{base}/oauth/token",
        client_id=client_id,
        client_secret=client_secret,
        scopes=(),
        basic_auth=True,
        revoke_url=f"{base}/oauth/revoke",
    )


def agenda_marker(idempotency_key: str) -> str:
    """The key as a short tag at the end of the agenda: Zoom has no idempotency key of its own."""
    return f"[ref:{hashlib.sha256(idempotency_key.encode('utf-8')).hexdigest()[:16]}]"


class ZoomProvider:
    """Zoom meetings scheduled as one user; Google Calendar, not Zoom, tells the invitees."""

    name = PROVIDER
    can_rotate_passcode = True
    # Fixed-time recurring meetings keep their occurrences; one with no fixed time has none, and needs nothing.
    series_occurrences = True

    def __init__(self, client: ServiceClient, credentials: Credentials) -> None:
        self.client = client
        self.credentials = credentials

    def create(self, spec: MeetingSpec, idempotency_key: str, *, maybe_made: bool = True) -> Meeting:
        marker = agenda_marker(idempotency_key)
        body = {**_schedule(spec), "agenda": _agenda(spec.agenda, marker)}
        if spec.options.template_id:
            body["template_id"] = spec.options.template_id
        meeting = self._find(marker) if maybe_made else None
        if meeting is None:
            try:
                meeting = self._meeting(self._call("POST", "/users/me/meetings", json=body).body)
            except ServiceUnavailable:
                # The answer may be lost while the meeting exists; a second POST would be a second meeting.
                meeting = self._find(marker)
                if meeting is None:
                    raise
                log.info("zoom create failed but the meeting exists; using it")
        return meeting

    def completed(self, meeting: Meeting) -> Meeting:
        return self._with_sip_address(meeting)

    def update(self, meeting_id: str, spec: MeetingSpec, *, known: KnownMeeting | None = None) -> Meeting:
        body = _schedule(spec)  # refuses what Zoom cannot do before anything changes
        path = f"/meetings/{segment(meeting_id)}"
        if known is None:
            current = self._call("GET", path).body.get("agenda")
            found = MARKER.search(current) if isinstance(current, str) else None
            marker = found.group() if found else None
        else:
            marker = agenda_marker(known.idempotency_key)  # what create put there
        body["agenda"] = _agenda(spec.agenda, marker)
        self._call("PATCH", path, json=body)  # 204 without a body
        no_fixed_time = body["type"] == RECURRING_ANY_TIME
        if known is None or "password" in body or no_fixed_time != known.no_fixed_time:
            # A new passcode changes the join link; a new kind of meeting is read again rather than guessed.
            return self._meeting(self._call("GET", path).body)
        # Topic, time, agenda, settings and recurrence leave the join link and passcode as they were.
        return Meeting(provider=self.name, meeting_id=meeting_id, join_url=known.join_url, no_fixed_time=no_fixed_time)

    def delete(self, meeting_id: str) -> None:
        try:
            self._call("DELETE", f"/meetings/{segment(meeting_id)}", params={"schedule_for_reminder": "false"})
        except MeetingGone:
            log.info("zoom meeting was already deleted")

    def get(self, meeting_id: str) -> Meeting:
        return self._meeting(self._call("GET", f"/meetings/{segment(meeting_id)}").body)

    def find(self, idempotency_key: str, start: datetime, end: datetime) -> Meeting | None:
        # The agenda's marker names the key; Zoom lists the user's upcoming meetings whatever their time.
        return self._find(agenda_marker(idempotency_key))

    def rotate_passcode(self, meeting_id: str) -> Meeting:
        path = f"/meetings/{segment(meeting_id)}"
        self._call("PATCH", path, json={"password": zoom_passcode()})  # 204 without a body
        # The join link and the SIP address both carry the passcode: read them again.
        return self._with_sip_address(self._meeting(self._call("GET", path).body))

    def update_occurrence(self, meeting_id: str, original_start: datetime, spec: MeetingSpec) -> None:
        occurrence = self._occurrence_id(meeting_id, original_start)
        if occurrence is None:
            return
        # Zoom changes only the agenda, time and a few settings of one occurrence; its topic is the series'.
        body = {"start_time": _utc(spec.start), "duration": _minutes(spec.start, spec.end)}
        self._call("PATCH", f"/meetings/{segment(meeting_id)}", params={"occurrence_id": occurrence}, json=body)

    def cancel_occurrence(self, meeting_id: str, original_start: datetime) -> None:
        params = {"schedule_for_reminder": "false"}
        try:
            occurrence = self._occurrence_id(meeting_id, original_start)
            if occurrence is not None:
                params["occurrence_id"] = occurrence
                self._call("DELETE", f"/meetings/{segment(meeting_id)}", params=params)
        except MeetingGone:
            log.info("zoom occurrence was already deleted")

    def _occurrence_id(self, meeting_id: str, original_start: datetime) -> str | None:
        """The occurrence that started at `original_start`; None for a meeting with no fixed time (nothing to do)."""
        original = occurrence_start(original_start)
        body = self._call("GET", f"/meetings/{segment(meeting_id)}").body
        if body.get("type") == RECURRING_ANY_TIME:
            return None
        listed = body.get("occurrences")
        occurrences = [o for o in (listed if isinstance(listed, list) else []) if isinstance(o, dict)]
        # Zoom names an occurrence by its original start in epoch milliseconds, and a moved one keeps its name.
        wanted = str(int(original.timestamp() * 1000))
        named = next((o for o in occurrences if str(o.get("occurrence_id")) == wanted), None)
        if named is None:
            named = next((o for o in occurrences if aware_time(o.get("start_time")) == original), None)
        if named is None or named.get("status") == "deleted":
            raise MeetingGone(self.name, f"this meeting has no occurrence at {_utc(original)}")
        return str(named["occurrence_id"])

    def _find(self, marker: str) -> Meeting | None:
        """The user's upcoming meeting whose agenda carries `marker`, read in full; None if there is none."""
        params = {"type": "upcoming", "page_size": str(LIST_PAGE_SIZE)}
        for _ in range(LIST_PAGES):
            body = self._call("GET", "/users/me/meetings", params=params).body
            listed = body.get("meetings")
            for item in listed if isinstance(listed, list) else []:
                if not isinstance(item, dict) or not item.get("id") or marker not in str(item.get("agenda") or ""):
                    continue
                try:
                    full = self._call("GET", f"/meetings/{segment(str(item.get('id')))}").body
                except MeetingGone:
                    continue
                # Trust the agenda of the meeting itself: reusing someone else's meeting would be far worse.
                if marker in str(full.get("agenda") or ""):
                    return self._meeting(full)
            token = body.get("next_page_token")
            if not isinstance(token, str) or not token:
                return None
            params = {**params, "next_page_token": token}
        log.warning("zoom user has more than %d upcoming meetings; stopped looking", LIST_PAGES * LIST_PAGE_SIZE)
        return None

    def _with_sip_address(self, meeting: Meeting) -> Meeting:
        try:
            # Creates nothing, so repeating it is safe.
            answer = self._call("POST", f"/meetings/{segment(meeting.meeting_id)}/sip_dialing", retry_unsafe=True)
        except MeetingServiceError as error:
            log.info("zoom gave no SIP address (%s)", type(error).__name__)
            return meeting
        address = answer.body.get("sip_dialing")
        return dataclasses.replace(meeting, sip_address=address) if isinstance(address, str) and address else meeting

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        retry_unsafe: bool = False,
    ) -> ServiceResponse:
        try:
            return self.client.call(method, path, self.credentials, params=params, json=json, retry_unsafe=retry_unsafe)
        except MeetingGone as error:
            # Zoom answers 404 with code 1001 or 1120 when the host user is gone: no meeting of theirs can be reached.
            if path.startswith("/users/") or _names_a_missing_user(error.message):
                self.credentials.mark_revoked("the Zoom user no longer exists")
                raise GrantRevoked(
                    self.name, "this Zoom user no longer exists; connect a Zoom account again"
                ) from error
            raise

    def _meeting(self, body: Mapping[str, Any]) -> Meeting:
        meeting_id, join_url = body.get("id"), body.get("join_url")
        if isinstance(meeting_id, bool) or not isinstance(meeting_id, int | str) or not str(meeting_id).isdigit():
            raise MeetingRejected(self.name, "unexpected answer")
        if not isinstance(join_url, str) or not join_url.startswith("https://"):
            raise MeetingRejected(self.name, "unexpected answer")
        settings = body.get("settings")
        numbers = settings.get("global_dial_in_numbers") if isinstance(settings, dict) else None
        dial_in = tuple(
            DialIn(
                label=_dial_in_label(number), number=str(number["number"]), toll_free=number.get("type") == "tollfree"
            )
            for number in (numbers if isinstance(numbers, list) else [])
            if isinstance(number, dict) and number.get("number")
        )
        # start_url signs in as the host: it is never kept or handed on.
        return Meeting(
            provider=self.name,
            meeting_id=str(meeting_id),
            join_url=join_url,
            meeting_code=str(meeting_id),
            passcode=_text(body.get("password")),
            dial_in=dial_in,
            no_fixed_time=body.get("type") == RECURRING_ANY_TIME,
        )


def _schedule(spec: MeetingSpec) -> dict[str, Any]:
    """Title, time, settings and recurrence as Zoom names them; MeetingRejected for what Zoom cannot take."""
    options = spec.options
    if options.passcode and not PASSCODE.fullmatch(options.passcode):
        raise MeetingRejected(PROVIDER, "A Zoom passcode has 1 to 10 characters: letters, digits and @ - _ * only.")
    meeting_type, recurrence = (SCHEDULED, None)
    if options.recurrence:
        try:
            meeting_type, recurrence = _recurrence(options.recurrence, spec)
        except MeetingRejected:
            # Zoom cannot repeat this way (yearly, say): one meeting with no fixed time serves every occurrence.
            meeting_type, recurrence = RECURRING_ANY_TIME, None
    body: dict[str, Any] = {
        "topic": (spec.title.strip() or "Meeting")[:TOPIC_LIMIT],
        "type": meeting_type,
        "start_time": _utc(spec.start),
        "duration": _minutes(spec.start, spec.end),
        "settings": {
            "waiting_room": options.waiting_room,
            "join_before_host": not options.waiting_room,
            "alternative_hosts": ";".join(_unique(options.alternative_hosts)),
            "meeting_invitees": [{"email": email} for email in _unique(spec.invitees)],
        },
    }
    if spec.time_zone:
        body["timezone"] = spec.time_zone
    if options.passcode:
        body["password"] = options.passcode
    if recurrence is not None:
        body["recurrence"] = recurrence
    return body


def _recurrence(rule: str, spec: MeetingSpec) -> tuple[int, dict[str, Any] | None]:
    """The meeting type and Zoom recurrence for an RRULE; an endless rule becomes a meeting with no fixed time."""
    text = rule.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in filter(None, text.split(";")):
        name, sep, value = item.partition("=")
        if not sep:
            raise _cannot_repeat(text)
        parts[name.strip().upper()] = value.strip().upper()
    freq = parts.pop("FREQ", "")
    if freq == "YEARLY":
        raise _cannot_repeat(text)
    parts.pop("WKST", None)
    interval, count, until = parts.pop("INTERVAL", "1"), parts.pop("COUNT", None), parts.pop("UNTIL", None)
    days = [day for day in parts.pop("BYDAY", "").split(",") if day]
    month_days = [day for day in parts.pop("BYMONTHDAY", "").split(",") if day]
    set_position = parts.pop("BYSETPOS", None)
    if parts or not interval.isdigit() or int(interval) < 1 or (count is not None and until is not None):
        raise _cannot_repeat(text)
    zone = _zone(spec)
    local_start = spec.start.astimezone(zone)

    recurrence: dict[str, Any]
    if freq == "DAILY" and not (days or month_days or set_position):
        recurrence = {"type": 1}
    elif freq == "DAILY" and days and interval == "1" and not (month_days or set_position):
        # "Every weekday" is daily by day in RRULE and weekly by day in Zoom.
        recurrence = {"type": 2, "weekly_days": _weekly_days(days, text)}
    elif freq == "WEEKLY" and not (month_days or set_position):
        weekday = (local_start.isoweekday() % 7) + 1
        recurrence = {"type": 2, "weekly_days": _weekly_days(days, text) if days else str(weekday)}
    elif freq == "MONTHLY" and not days and not set_position and len(month_days) <= 1:
        day = month_days[0] if month_days else str(local_start.day)
        if not day.isdigit() or not 1 <= int(day) <= 31:
            raise _cannot_repeat(text)
        recurrence = {"type": 3, "monthly_day": int(day)}
    elif freq == "MONTHLY" and len(days) == 1 and not month_days:
        match = MONTHLY_BYDAY.fullmatch(days[0])
        week = (match.group(1) if match else None) or set_position
        if match is None or week is None or int(week) not in MONTH_WEEKS:
            raise _cannot_repeat(text)
        recurrence = {"type": 3, "monthly_week": int(week), "monthly_week_day": WEEKDAYS[match.group(2)]}
    else:
        raise _cannot_repeat(text)
    recurrence["repeat_interval"] = int(interval)

    if count is not None:
        if not count.isdigit() or int(count) < 1:
            raise _cannot_repeat(text)
        recurrence["end_times"] = int(count)
    elif until is not None:
        recurrence["end_date_time"] = _until(until, zone, text)
    else:
        # Zoom's repeating meetings with a fixed time must end; one with no fixed time keeps one link for ever.
        return RECURRING_ANY_TIME, None
    return RECURRING_FIXED_TIME, recurrence


def zoom_passcode() -> str:
    """Ten random letters and digits, with a capital, a small letter and a digit: what Zoom accounts usually ask."""
    alphabet = string.ascii_letters + string.digits
    while True:
        passcode = "".join(secrets.choice(alphabet) for _ in range(PASSCODE_LENGTH))
        if all(any(kind(c) for c in passcode) for kind in (str.isupper, str.islower, str.isdigit)):
            return passcode


def _minutes(start: datetime, end: datetime) -> int:
    # Real elapsed minutes: subtracting two times of one zone ignores a DST change between them.
    return max(1, round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60))


def _weekly_days(days: list[str], rule: str) -> str:
    if any(day not in WEEKDAYS for day in days):
        raise _cannot_repeat(rule)
    return ",".join(str(number) for number in sorted({WEEKDAYS[day] for day in days}))


def _until(value: str, zone: tzinfo, rule: str) -> str:
    """RRULE UNTIL (UTC, floating or a date: through the end of that day) as Zoom's UTC end_date_time."""
    try:
        if len(value) == 8:
            moment = datetime.combine(date(int(value[:4]), int(value[4:6]), int(value[6:])), time(23, 59, 59), zone)
        elif value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            moment = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
    except ValueError:
        raise _cannot_repeat(rule) from None
    return _utc(moment)


def _cannot_repeat(rule: str) -> MeetingRejected:
    return MeetingRejected(PROVIDER, f"Zoom cannot repeat a meeting the way this event repeats ({rule})")


def _agenda(text: str, marker: str | None) -> str:
    """The event's agenda cut to Zoom's 2000 characters, with the marker kept whole at the end."""
    if marker is None:
        return text.strip()[:AGENDA_LIMIT]
    kept = text.strip()[: AGENDA_LIMIT - len(marker) - 2].rstrip()
    return f"{kept}\n\n{marker}" if kept else marker


def _names_a_missing_user(message: str) -> bool:
    # http.py keeps only the message, not Zoom's code: 1001 "User does not exist: …", 1120 "Invalid user …".
    lowered = message.lower()
    return "user" in lowered and "meeting" not in lowered


def _dial_in_label(number: Mapping[str, Any]) -> str:
    country = str(number.get("country_name") or number.get("country") or "")
    city = str(number.get("city") or "")
    return f"{country} ({city})" if country and city else country or city


def _zone(spec: MeetingSpec) -> tzinfo:
    try:
        return ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return spec.start.tzinfo or UTC


def _unique(addresses: tuple[str, ...]) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for address in (a.strip() for a in addresses):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
