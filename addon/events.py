"""Google's add-on event objects, parsed into typed contexts; anything malformed is one BadEvent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class BadEvent(ValueError):
    """The request body is not an event object we can use; the message is a short reason."""

    def __init__(self, reason: str) -> None:
        # A reason may name a field, and a field's name is whatever the body says.
        super().__init__(reason if len(reason) <= 100 else reason[:97] + "...")


@dataclass(frozen=True)
class FormValue:
    """One form input as Google sends it: strings, a date-time, a date or a time of day."""

    strings: tuple[str, ...] = ()
    ms_since_epoch: int | None = None
    has_date: bool = False
    has_time: bool = False
    hours: int | None = None
    minutes: int | None = None

    @property
    def first(self) -> str | None:
        return self.strings[0] if self.strings else None


@dataclass(frozen=True)
class Common:
    """commonEventObject: the host, the user's locale and time zone, and widget inputs."""

    host_app: str
    platform: str | None = None
    user_locale: str | None = None
    time_zone: str | None = None
    form_inputs: Mapping[str, FormValue] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Authorization:
    """authorizationEventObject: the user's tokens and the scopes they actually granted."""

    user_oauth_token: str | None
    user_id_token: str | None
    authorized_scopes: frozenset[str]


@dataclass(frozen=True)
class GmailContext:
    """The open message, with its per-message access token."""

    message_id: str | None
    thread_id: str | None
    access_token: str | None


@dataclass(frozen=True)
class Attendee:
    email: str
    display_name: str | None = None
    response_status: str | None = None
    optional: bool = False
    organizer: bool = False
    is_self: bool = False
    resource: bool = False


@dataclass(frozen=True)
class Capabilities:
    can_see_attendees: bool = False
    can_add_attendees: bool = False
    can_see_conference_data: bool = False
    can_set_conference_data: bool = False


@dataclass(frozen=True)
class EntryPoint:
    entry_point_type: str
    uri: str
    label: str | None = None


@dataclass(frozen=True)
class Conference:
    """A conference already on the event (Meet or another solution)."""

    solution_name: str | None
    conference_id: str | None
    entry_points: tuple[EntryPoint, ...]


@dataclass(frozen=True)
class CalendarContext:
    """The open calendar event; `event_id` is None while a new event is not saved yet."""

    calendar_id: str
    event_id: str | None
    recurring_event_id: str | None = None
    organizer_email: str | None = None
    attendees: tuple[Attendee, ...] = ()
    capabilities: Capabilities = Capabilities()
    conference: Conference | None = None


@dataclass(frozen=True)
class AddonEvent:
    common: Common
    authorization: Authorization
    gmail: GmailContext | None = None
    calendar: CalendarContext | None = None


def parse_event(body: object) -> AddonEvent:
    """Turn a decoded JSON body into an AddonEvent, or raise BadEvent with a short reason."""
    root = _object(body, "body")
    common = _object(root.get("commonEventObject"), "commonEventObject")
    auth = _object(root.get("authorizationEventObject", {}), "authorizationEventObject")
    gmail = root.get("gmail")
    calendar = root.get("calendar")
    return AddonEvent(
        common=_common(common),
        authorization=Authorization(
            user_oauth_token=_optional_token(auth, "userOAuthToken", "authorizationEventObject"),
            user_id_token=_optional_str(auth, "userIdToken", "authorizationEventObject"),
            authorized_scopes=frozenset(_str_list(auth.get("authorizedScopes", []), "authorizedScopes")),
        ),
        gmail=None if gmail is None else _gmail(_object(gmail, "gmail")),
        calendar=None if calendar is None else _calendar(_object(calendar, "calendar")),
    )


def _common(common: dict[str, Any]) -> Common:
    host_app = common.get("hostApp")
    if not isinstance(host_app, str) or not host_app:
        raise BadEvent("commonEventObject.hostApp is missing")
    time_zone = _object(common.get("timeZone", {}), "commonEventObject.timeZone")
    inputs = _object(common.get("formInputs", {}), "commonEventObject.formInputs")
    parameters = _object(common.get("parameters", {}), "commonEventObject.parameters")
    if not all(isinstance(v, str) for v in parameters.values()):
        raise BadEvent("commonEventObject.parameters values must be strings")
    return Common(
        host_app=host_app,
        platform=_optional_str(common, "platform", "commonEventObject"),
        user_locale=_optional_str(common, "userLocale", "commonEventObject"),
        time_zone=_optional_str(time_zone, "id", "commonEventObject.timeZone"),
        form_inputs={name: _form_value(value, name) for name, value in inputs.items()},
        parameters=dict(parameters),
    )


def _form_value(raw: object, name: str) -> FormValue:
    value = _object(raw, f"formInputs.{name}")
    if "stringInputs" in value:
        strings = _object(value["stringInputs"], f"formInputs.{name}.stringInputs").get("value", [])
        return FormValue(strings=tuple(_str_list(strings, f"formInputs.{name}")))
    if "dateTimeInput" in value:
        dt = _object(value["dateTimeInput"], f"formInputs.{name}.dateTimeInput")
        return FormValue(
            ms_since_epoch=_ms(dt.get("msSinceEpoch"), name),
            has_date=bool(dt.get("hasDate", True)),
            has_time=bool(dt.get("hasTime", True)),
        )
    if "dateInput" in value:
        return FormValue(ms_since_epoch=_ms(_object(value["dateInput"], name).get("msSinceEpoch"), name), has_date=True)
    if "timeInput" in value:
        t = _object(value["timeInput"], f"formInputs.{name}.timeInput")
        hours, minutes = t.get("hours"), t.get("minutes", 0)
        if not _is_int(hours) or not _is_int(minutes) or not (0 <= hours < 24 and 0 <= minutes < 60):
            raise BadEvent(f"formInputs.{name}.timeInput is not a time of day")
        return FormValue(hours=hours, minutes=minutes, has_time=True)
    return FormValue()


# ASCII digits only ("²".isdigit() is true), and no more than milliseconds up to the year 9999 need.
_MS_PATTERN = re.compile(r"-?[0-9]{1,15}")


def _ms(raw: object, name: str) -> int:
    """msSinceEpoch arrives as an integer or a string of digits, depending on the client."""
    if _is_int(raw) and abs(int(raw)) < 10**15:
        return int(raw)
    if isinstance(raw, str) and _MS_PATTERN.fullmatch(raw.strip()):
        return int(raw)
    raise BadEvent(f"formInputs.{name}.msSinceEpoch is not a number")


def _gmail(gmail: dict[str, Any]) -> GmailContext:
    return GmailContext(
        message_id=_optional_str(gmail, "messageId", "gmail"),
        thread_id=_optional_str(gmail, "threadId", "gmail"),
        access_token=_optional_token(gmail, "accessToken", "gmail"),
    )


def _calendar(calendar: dict[str, Any]) -> CalendarContext:
    calendar_id = calendar.get("calendarId")
    if not isinstance(calendar_id, str) or not calendar_id:
        raise BadEvent("calendar.calendarId is missing")
    capabilities = _object(calendar.get("capabilities", {}), "calendar.capabilities")
    organizer = _object(calendar.get("organizer", {}), "calendar.organizer")
    attendees = calendar.get("attendees", [])
    if not isinstance(attendees, list):
        raise BadEvent("calendar.attendees must be a list")
    conference = calendar.get("conferenceData")
    return CalendarContext(
        calendar_id=calendar_id,
        event_id=_optional_str(calendar, "id", "calendar"),
        recurring_event_id=_optional_str(calendar, "recurringEventId", "calendar"),
        organizer_email=_optional_str(organizer, "email", "calendar.organizer"),
        attendees=tuple(_attendee(_object(a, "calendar.attendees[]")) for a in attendees),
        capabilities=Capabilities(
            can_see_attendees=capabilities.get("canSeeAttendees") is True,
            can_add_attendees=capabilities.get("canAddAttendees") is True,
            can_see_conference_data=capabilities.get("canSeeConferenceData") is True,
            can_set_conference_data=capabilities.get("canSetConferenceData") is True,
        ),
        conference=None if conference is None else parse_conference(_object(conference, "calendar.conferenceData")),
    )


def _attendee(raw: dict[str, Any]) -> Attendee:
    email = raw.get("email")
    if not isinstance(email, str) or not email:
        raise BadEvent("calendar.attendees[].email is missing")
    return Attendee(
        email=email,
        display_name=_optional_str(raw, "displayName", "calendar.attendees[]"),
        response_status=_optional_str(raw, "responseStatus", "calendar.attendees[]"),
        optional=raw.get("optional") is True,
        organizer=raw.get("organizer") is True,
        is_self=raw.get("self") is True,
        resource=raw.get("resource") is True,
    )


def parse_conference(raw: Mapping[str, Any]) -> Conference:
    """Conference data in Calendar API form, as both the event object and events.get carry it."""
    solution = raw.get("conferenceSolution") if isinstance(raw.get("conferenceSolution"), dict) else {}
    points = raw.get("entryPoints") if isinstance(raw.get("entryPoints"), list) else []
    return Conference(
        solution_name=solution.get("name") if isinstance(solution.get("name"), str) else None,
        conference_id=raw.get("conferenceId") if isinstance(raw.get("conferenceId"), str) else None,
        entry_points=tuple(
            EntryPoint(
                entry_point_type=str(p.get("entryPointType", "")),
                uri=p["uri"],
                label=p.get("label") if isinstance(p.get("label"), str) else None,
            )
            for p in points
            if isinstance(p, dict) and isinstance(p.get("uri"), str)
        ),
    )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadEvent(f"{where} must be a JSON object")
    return value


def _optional_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadEvent(f"{where}.{key} must be a string")
    return value or None


# Tokens go out in HTTP headers, so printable ASCII only; Google's access tokens are at most 2048 bytes.
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


def _optional_token(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _optional_str(obj, key, where)
    if value is not None and not _TOKEN.fullmatch(value):
        raise BadEvent(f"{where}.{key} is not a token")
    return value


def _str_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadEvent(f"{where} must be a list of strings")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ScheduleFormInput:
    """The Gmail schedule form as sent: `start` is None when the user cleared the picker."""

    message_id: str
    title: str
    attendees: tuple[str, ...]
    start: datetime | None
    duration_minutes: int
    send_invitations: bool
    participants_offered: bool


def schedule_form(event: AddonEvent) -> ScheduleFormInput:
    """The schedule form of a Gmail card action; a malformed one is BadEvent."""
    inputs = event.common.form_inputs
    if event.gmail is None or not event.gmail.message_id:
        raise BadEvent("gmail.messageId is required")
    return ScheduleFormInput(
        message_id=event.gmail.message_id,
        title=_form_text(inputs.get("title")),
        attendees=inputs["participants"].strings if "participants" in inputs else (),
        start=_form_start(inputs.get("start")),
        duration_minutes=_form_minutes(inputs.get("duration")),
        send_invitations="yes" in (inputs["send_invitations"].strings if "send_invitations" in inputs else ()),
        participants_offered=event.common.parameters.get("participants_offered", "yes") != "no",
    )


def _form_text(value: FormValue | None) -> str:
    return (value.first or "") if value else ""


def _form_start(value: FormValue | None) -> datetime | None:
    if value is None or value.ms_since_epoch is None:
        return None
    try:
        return datetime.fromtimestamp(value.ms_since_epoch / 1000, UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise BadEvent("formInputs.start is not a usable date") from error


def _form_minutes(value: FormValue | None) -> int:
    try:
        return int(_form_text(value))
    except ValueError as error:
        raise BadEvent("formInputs.duration must be a whole number of minutes") from error
