"""The event fields that carry a meeting's join details, and the fields that take them off again."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from addon.meetings.model import Meeting

if TYPE_CHECKING:
    from addon.google.calendar import CalendarEvent

BLOCK_START = "──── Video meeting (added by Meeting Scheduler) ────"
BLOCK_END = "──── End of video meeting details ────"
_BLOCK = re.compile(re.escape(BLOCK_START) + r".*?" + re.escape(BLOCK_END) + r"\n?", re.DOTALL)
# Private extended properties: visible only to this calendar's copy of the event, read back by the add-on.
PROVIDER_PROPERTY = "meetingSchedulerProvider"
MEETING_PROPERTY = "meetingSchedulerMeetingId"
EVENT_PROPERTY = "meetingSchedulerEventKey"
DESCRIPTION_LIMIT = 8000


def details_block(meeting: Meeting, service_name: str) -> str:
    lines = [BLOCK_START, f"Join {service_name} meeting: {meeting.join_url}"]
    if meeting.meeting_code:
        lines.append(f"Meeting number: {meeting.meeting_code}")
    if meeting.passcode:
        lines.append(f"Passcode: {meeting.passcode}")
    for number in meeting.dial_in[:5]:
        label = f"{number.label}: " if number.label else ""
        lines.append(f"Dial in: {label}{number.number}")
    if meeting.sip_address:
        lines.append(f"Video system: {meeting.sip_address}")
    lines.append(BLOCK_END)
    return "\n".join(lines)


def with_details(description: str, meeting: Meeting, service_name: str) -> str:
    """The description with exactly one, current, block of join details; the user's text is never cut."""
    kept = without_details(description).rstrip()
    for block in (details_block(meeting, service_name), short_block(meeting, service_name), ""):
        combined = f"{kept}\n\n{block}" if kept and block else kept or block
        if len(combined) <= DESCRIPTION_LIMIT:
            return combined
    return kept  # no room left: the location and conference still carry the link


def short_block(meeting: Meeting, service_name: str) -> str:
    return "\n".join([BLOCK_START, f"Join {service_name} meeting: {meeting.join_url}", BLOCK_END])


def without_details(description: str) -> str:
    return _BLOCK.sub("", description).rstrip()


def event_fields(
    meeting: Meeting,
    *,
    service_name: str,
    description: str,
    location: str,
    event_key: str,
    icon_url: str,
    with_conference: bool,
) -> dict[str, Any]:
    """The event fields to write: description block, location, private properties, and conferenceData if wanted."""
    fields: dict[str, Any] = {
        "description": with_details(description, meeting, service_name),
        "extendedProperties": {
            "private": {
                PROVIDER_PROPERTY: meeting.provider,
                MEETING_PROPERTY: meeting.meeting_id,
                EVENT_PROPERTY: event_key,
            }
        },
    }
    # A room the user wrote stays; the link goes in only where the location is empty (or already ours).
    if not location.strip() or location.strip() == meeting.join_url:
        fields["location"] = meeting.join_url
    if with_conference:
        fields["conferenceData"] = conference_data(meeting, service_name, icon_url)
    return fields


def fields_taking_off(event: CalendarEvent, join_url: str | None, meeting_id: str | None) -> dict[str, Any]:
    """The event fields that take a meeting's join details off it, leaving what the user wrote; its
    conference too, where that conference is the meeting."""
    fields: dict[str, Any] = {
        "description": without_details(event.description),
        "extendedProperties": {"private": {PROVIDER_PROPERTY: None, MEETING_PROPERTY: None, EVENT_PROPERTY: None}},
    }
    if join_url and event.location.strip() == join_url:
        fields["location"] = ""
    if event.conference is not None and meeting_id and event.conference.conference_id == meeting_id:
        fields["conferenceData"] = None
    return fields


def conference_data(meeting: Meeting, service_name: str, icon_url: str) -> dict[str, Any]:
    """Calendar API conferenceData for a third-party meeting (Google decides whether to accept it)."""
    video: dict[str, Any] = {"entryPointType": "video", "uri": meeting.join_url, "label": meeting.join_url[:512]}
    if meeting.meeting_code:
        video["meetingCode"] = meeting.meeting_code[:128]
    if meeting.passcode:
        video["passcode"] = meeting.passcode[:128]
    entry_points = [video]
    for number in meeting.dial_in[:5]:
        digits = re.sub(r"[^\d+]", "", number.number)
        if digits:
            entry_points.append({"entryPointType": "phone", "uri": f"tel:{digits}", "label": number.number})
    if meeting.sip_address:
        entry_points.append({"entryPointType": "sip", "uri": f"sip:{meeting.sip_address}"})
    return {
        "conferenceId": meeting.meeting_id[:512],
        "conferenceSolution": {"key": {"type": "addOn"}, "name": service_name, "iconUri": icon_url},
        "entryPoints": entry_points,
    }


def shows_meeting(event: CalendarEvent, meeting: Meeting) -> bool:
    """Whether the event still carries our details of this meeting: the block with its link, and our marker."""
    block = _BLOCK.search(event.description)
    marked = event.private_properties.get(MEETING_PROPERTY) == meeting.meeting_id
    return marked and block is not None and meeting.join_url in block.group()


def conference_kept(event: CalendarEvent, meeting: Meeting) -> bool | None:
    """Whether Calendar kept the conference we sent: True, False (dropped without a word), or None when the
    event carries someone else's conference (we sent none, so the answer says nothing)."""
    conference = event.conference
    if conference is None:
        return False
    if conference.conference_id != meeting.meeting_id[:512]:
        return None if conference.conference_id else False
    return any(point.uri == meeting.join_url for point in conference.entry_points)


class ConferenceSupport:
    """Whether Calendar takes our conferenceData, learnt from its first answer (HTTP add-ons: unconfirmed)."""

    def __init__(self) -> None:
        self.accepted: bool | None = None
