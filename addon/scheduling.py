"""The use cases: schedule a meeting from an email, add one to an event, bring it up to date, remove it; each once."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from addon.google.calendar import CalendarEvent, insert_event, patch_event, read_event
from addon.google.client import (
    GoogleApiError,
    GoogleConflict,
    GoogleNotFound,
    GoogleQuota,
    GoogleRejected,
    GoogleUnavailable,
)
from addon.join_details import MEETING_PROPERTY, cleared_fields, conference_kept, event_fields
from addon.meetings.catalog import display_name
from addon.meetings.model import (
    Meeting,
    MeetingGone,
    MeetingOptions,
    MeetingRejected,
    MeetingServiceError,
    MeetingSpec,
    Provider,
)
from addon.services import Services
from addon.store import AuditRecord, MeetingLink
from cards.i18n import Text

log = logging.getLogger(__name__)

# A request that claimed an event and then died is taken over after this long.
CLAIM_SECONDS = 60
# How long a second request (a double click, another tab) waits for the first to finish.
WAIT_SECONDS = 8.0
MIN_MINUTES, MAX_MINUTES = 5, 24 * 60


class SchedulingError(Exception):
    """A use case could not be carried out; `message` says what the user can do, translated where it is shown."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.message = message


class InvalidRequest(SchedulingError):
    """What the user asked for cannot be scheduled; `field` names the form field to point at."""

    def __init__(self, field: str, message: Text) -> None:
        super().__init__(message)
        self.field = field


class StillWorking(SchedulingError):
    """Another request is creating this meeting right now."""


class CalendarNotUpdated(SchedulingError):
    """The meeting could not be written to Calendar; nothing was left behind, or the link says what was."""


class CalendarBusy(Exception):
    """Google asked us to slow down while writing to Calendar; `outcome` says what became of the meeting."""

    def __init__(self, outcome: Text, quota: GoogleQuota) -> None:
        super().__init__(str(outcome))
        self.outcome = outcome
        self.quota = quota


@dataclass(frozen=True)
class Actor:
    """The verified user a use case acts for, with their Google token and time zone."""

    user_id: str
    email: str
    google_token: str
    zone: ZoneInfo


@dataclass(frozen=True)
class EmailMeetingRequest:
    message_id: str
    title: str
    attendees: tuple[str, ...]
    start: datetime
    duration_minutes: int
    send_invitations: bool = True
    # Whether the form listed anyone: an email with nobody else on it may be scheduled alone.
    participants_offered: bool = True


@dataclass(frozen=True)
class Scheduled:
    """A meeting on an event. `meeting` is None when another request made it; the link has its join URL."""

    link: MeetingLink
    meeting: Meeting | None
    event: CalendarEvent | None


def event_key(calendar_id: str, event_id: str) -> str:
    return f"{calendar_id}/{event_id}"


def fingerprint(event: CalendarEvent) -> str:
    """What a meeting copies from its event; a different value means the meeting needs updating."""
    parts = [event.title, _iso(event.start), _iso(event.end), *sorted(event.recurrence), *guests(event)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def details_taken_off(event: CalendarEvent, join_url: str | None, meeting_id: str | None) -> dict:
    """The event fields that take a meeting's join details off it, its conference too where that is the meeting."""
    fields = cleared_fields(event.description, event.location, join_url)
    if event.conference is not None and meeting_id and event.conference.conference_id == meeting_id:
        fields["conferenceData"] = None
    return fields


def guests(event: CalendarEvent) -> tuple[str, ...]:
    """The people a meeting is for: the event's guests, without rooms and without the organiser's own entry."""
    return tuple(sorted({a.email.lower() for a in event.attendees if not a.resource and not a.is_self}))


class Scheduler:
    """Use cases for one user on their chosen meeting service; never sees Flask."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        provider: str,
        webex_site: str | None = None,
        waiting_room: bool = False,
        template_id: str | None = None,
        retention_days: int | None = None,
    ) -> None:
        self.services = services
        self.actor = actor
        self.provider_name = provider
        self.webex_site = webex_site
        self.waiting_room = waiting_room
        self.template_id = template_id
        self.retention_days = retention_days or services.settings.audit_retention_days

    def provider_for(self, name: str) -> Provider:
        return self.services.meetings.provider(self.actor.user_id, name, self.webex_site)

    # From Gmail -----------------------------------------------------------------------------

    def schedule_from_email(self, request: EmailMeetingRequest) -> Scheduled:
        """A meeting and a calendar event with the chosen people; a repeat of the same request changes nothing."""
        title = request.title.strip() or "Meeting"
        attendees = tuple(dict.fromkeys(a.strip().lower() for a in request.attendees if a.strip()))
        if request.participants_offered and not attendees:
            raise InvalidRequest("participants", Text("Choose at least one person to invite."))
        if not MIN_MINUTES <= request.duration_minutes <= MAX_MINUTES:
            raise InvalidRequest(
                "duration", Text("Choose a length between {minimum} minutes and 24 hours.", minimum=MIN_MINUTES)
            )
        if request.start < datetime.now(UTC) - timedelta(minutes=1):
            raise InvalidRequest("start", Text("That time has passed. Choose a start in the future."))
        start = request.start.astimezone(self.actor.zone)
        end = start + timedelta(minutes=request.duration_minutes)

        # The same form sent twice (double click, retry) names the same event, so Calendar refuses a second one.
        digest = hashlib.sha256(
            "\x1f".join(
                [self.actor.user_id, request.message_id, title, start.isoformat(), str(end), *sorted(attendees)]
            ).encode()
        ).hexdigest()
        event_id = "ms" + digest[:30]  # base32hex, as Calendar wants client-chosen ids
        calendar_id = self.actor.email
        key = event_key(calendar_id, event_id)
        link, mark = self._claim(key)
        if mark is None:
            return Scheduled(self._wait_until_ready(key, link), None, None)

        options = MeetingOptions(waiting_room=self.waiting_room, template_id=self.template_id)
        spec = MeetingSpec(title, start, end, self.actor.zone.key, invitees=attendees, options=options)
        meeting = self._create(key, mark, link, spec)
        send = "all" if request.send_invitations else "none"
        google, token = self.services.google, self.actor.google_token

        def insert(with_conference: bool) -> CalendarEvent:
            body = {
                "id": event_id,
                "summary": title,
                "start": {"dateTime": start.isoformat(), "timeZone": self.actor.zone.key},
                "end": {"dateTime": end.isoformat(), "timeZone": self.actor.zone.key},
                "attendees": [{"email": a} for a in attendees],
                **self._fields(meeting, None, key, with_conference),
            }
            try:
                return insert_event(google, token, calendar_id, body, send)
            except GoogleConflict:
                return self._existing(calendar_id, event_id, meeting, key, with_conference, body, send)

        def confirm() -> CalendarEvent | None:
            return self._read_if_there(calendar_id, event_id)

        event = self._write_to_calendar(key, mark, meeting, insert, confirm)
        link = self._ready(key, mark, meeting, event)
        self._keep_in_step(calendar_id)
        return Scheduled(link, meeting, event)

    def _existing(
        self,
        calendar_id: str,
        event_id: str,
        meeting: Meeting,
        key: str,
        with_conference: bool,
        body: dict,
        send: str,
    ) -> CalendarEvent:
        """An insert that found its id taken: an earlier attempt's event, or one the user has since deleted."""
        google, token = self.services.google, self.actor.google_token
        try:
            event = read_event(google, token, calendar_id, event_id)
        except GoogleNotFound:
            # Deleted events keep their ids; schedule this one under a fresh id.
            fresh = {**body, "id": event_id + secrets.token_hex(4)}
            return insert_event(google, token, calendar_id, fresh, send)
        if event.private_properties.get(MEETING_PROPERTY) == meeting.meeting_id:
            return event
        fields = self._fields(meeting, event, key, with_conference)
        return patch_event(google, token, calendar_id, event_id, fields, "none")

    # In Calendar ----------------------------------------------------------------------------

    def add_to_event(self, calendar_id: str, event_id: str, send_updates: str = "all") -> Scheduled:
        """A meeting for the event (for the whole series of a recurring one), written onto it; once only."""
        event = self._series(calendar_id, event_id)
        self._check_times(event)
        key = event_key(calendar_id, event.event_id)
        link, mark = self._claim(key)
        if mark is None:
            return Scheduled(self._wait_until_ready(key, link), None, event)

        meeting = self._create(key, mark, link, self._spec(event))

        def confirm() -> CalendarEvent | None:
            return self._read_if_there(calendar_id, event.event_id)

        write = self._details_writer(meeting, event, key, send_updates)
        written = self._write_to_calendar(key, mark, meeting, write, confirm)
        link = self._ready(key, mark, meeting, written)
        self._keep_in_step(calendar_id)
        return Scheduled(link, meeting, written)

    def update_meeting(self, calendar_id: str, event_id: str) -> Scheduled:
        """Bring the meeting in line with the event's current title and time."""
        event = self._series(calendar_id, event_id)
        key = event_key(calendar_id, event.event_id)
        link = self._own_link(key)
        if link.state != "ready" or not link.meeting_id:
            raise SchedulingError(Text("The meeting is still being added. Refresh in a moment."))
        self._check_times(event)
        meeting = self.provider_for(link.provider).update(link.meeting_id, self._spec(event))
        self._audit("update", key, meeting, "ok")

        try:
            written = self._with_conference_fallback(meeting, self._details_writer(meeting, event, key, "all"))
        except GoogleQuota as error:
            raise CalendarBusy(Text("The meeting was updated, but Google Calendar could not be."), error) from error
        except GoogleApiError as error:
            raise CalendarNotUpdated(
                Text("The meeting was updated, but Google Calendar could not be. Try Update meeting again.")
            ) from error
        return Scheduled(self._ready(key, None, meeting, written), meeting, written)

    def remove_from_event(self, calendar_id: str, event_id: str) -> CalendarEvent:
        """Take the join details off the event, then delete the meeting on its service."""
        event = self._series(calendar_id, event_id)
        key = event_key(calendar_id, event.event_id)
        link = self._own_link(key)
        fields = details_taken_off(event, link.join_url, link.meeting_id)
        # The event first: a failure here leaves both the meeting and its link as they were.
        try:
            written = patch_event(
                self.services.google, self.actor.google_token, calendar_id, event.event_id, fields, "all"
            )
        except GoogleQuota as error:
            raise CalendarBusy(Text("Google Calendar could not be changed, so the meeting was kept."), error) from error
        except GoogleApiError as error:
            raise CalendarNotUpdated(Text("Google Calendar could not be changed, so the meeting was kept.")) from error
        if link.meeting_id:
            self.provider_for(link.provider).delete(link.meeting_id)  # already gone is fine
            gone = Meeting(provider=link.provider, meeting_id=link.meeting_id, join_url=link.join_url or "")
            self._audit("delete", key, gone, "ok")
        self.services.store.delete(MeetingLink, key)
        return written

    # While the user is away -------------------------------------------------------------------

    def follow_event(self, link: MeetingLink, event: CalendarEvent, rotate: bool) -> Meeting:
        """The event changed in Calendar: the meeting takes its title, time and guests. With `rotate`, a
        removed guest also means a new passcode, written onto the event, so their old invitation stops working."""
        assert link.meeting_id is not None  # only ready links are followed
        provider = self.provider_for(link.provider)
        spec = self._spec(event)
        meeting = provider.update(link.meeting_id, spec)
        outcome = "followed the event in Calendar"
        if rotate and set(link.invitees) - set(spec.invitees) and provider.can_rotate_passcode:
            meeting = provider.rotate_passcode(link.meeting_id)
            self._with_conference_fallback(meeting, self._details_writer(meeting, event, link.link_id, "all"))
            outcome += "; new passcode after a guest was removed"
        self._audit("update", link.link_id, meeting, outcome)
        now = datetime.now(UTC)

        def followed(current: MeetingLink | None) -> MeetingLink | None:
            if current is None or current.meeting_id != link.meeting_id:
                return None
            return dataclasses.replace(
                current,
                join_url=meeting.join_url,
                fingerprint=fingerprint(event),
                invitees=guests(event),
                no_fixed_time=meeting.no_fixed_time,
                updated_at=now,
                expires_at=self.link_expiry(event),
            )

        self.services.store.update(MeetingLink, link.link_id, followed)
        return meeting

    def _keep_in_step(self, calendar_id: str) -> None:
        """From now on the calendar's changes reach its meetings (addon/sync.py)."""
        actor = self.actor
        try:
            self.services.syncer.track(actor.user_id, actor.email, calendar_id, actor.google_token or None)
        except Exception as error:
            # The meeting is made and on the event: that answer stands. The calendar is tracked with the
            # next meeting put on it; until then the card's "Update meeting" covers its changes.
            log.warning("could not start keeping the calendar in step: %s", type(error).__name__)

    def spec_for(self, event: CalendarEvent) -> MeetingSpec:
        """The meeting an event describes (its times must have been checked)."""
        return self._spec(event)

    def audit_success(self, action: str, link: MeetingLink, outcome: str) -> None:
        meeting = Meeting(provider=link.provider, meeting_id=link.meeting_id or "", join_url=link.join_url or "")
        self._audit(action, link.link_id, meeting, outcome)

    def audit(self, action: str, key: str, meeting: Meeting, outcome: str) -> None:
        self._audit(action, key, meeting, outcome)

    # Steps ----------------------------------------------------------------------------------

    def _series(self, calendar_id: str, event_id: str) -> CalendarEvent:
        event = read_event(self.services.google, self.actor.google_token, calendar_id, event_id)
        if event.recurring_event_id:
            return read_event(self.services.google, self.actor.google_token, calendar_id, event.recurring_event_id)
        return event

    def _read_if_there(self, calendar_id: str, event_id: str) -> CalendarEvent | None:
        try:
            return read_event(self.services.google, self.actor.google_token, calendar_id, event_id)
        except GoogleNotFound:
            return None

    @staticmethod
    def _check_times(event: CalendarEvent) -> None:
        if event.start is None or event.end is None or event.all_day:
            raise InvalidRequest(
                "time", Text("All-day events have no meeting time. Give the event a start and end first.")
            )
        if event.end <= event.start:
            raise InvalidRequest("time", Text("The event ends when it starts. Give it a length first."))

    def _own_link(self, key: str) -> MeetingLink:
        link = self.services.store.get(MeetingLink, key)
        if link is None:
            raise SchedulingError(Text("This event has no meeting from the add-on."))
        if link.user_id != self.actor.user_id:
            if link.user_email:
                raise SchedulingError(
                    Text("This meeting belongs to {owner}. Only they can change or remove it.", owner=link.user_email)
                )
            raise SchedulingError(
                Text("This meeting belongs to the person who added it. Only they can change or remove it.")
            )
        return link

    def _spec(self, event: CalendarEvent) -> MeetingSpec:
        assert event.start is not None and event.end is not None  # checked by the callers
        rule = next((r.removeprefix("RRULE:") for r in event.recurrence if r.startswith("RRULE:")), None)
        invitees = guests(event)
        return MeetingSpec(
            title=event.title or "Meeting",
            start=event.start,
            end=event.end,
            time_zone=event.time_zone or self.actor.zone.key,
            invitees=invitees,
            options=MeetingOptions(recurrence=rule, waiting_room=self.waiting_room, template_id=self.template_id),
        )

    def _claim(self, key: str) -> tuple[MeetingLink, str | None]:
        """Take the event for this request, unless another holds it or it is done: (link, our claim or None)."""
        mark = secrets.token_hex(8)
        now = datetime.now(UTC)

        def take(current: MeetingLink | None) -> MeetingLink | None:
            if current is None:
                return MeetingLink(
                    link_id=key,
                    user_id=self.actor.user_id,
                    user_email=self.actor.email,
                    provider=self.provider_name,
                    claim=mark,
                    claimed_at=now,
                    created_at=now,
                )
            if current.state == "ready":
                return None
            if current.claim and current.claimed_at and now - current.claimed_at < timedelta(seconds=CLAIM_SECONDS):
                return None
            if current.meeting_id and current.user_id != self.actor.user_id:
                return None  # someone else's meeting, half written: theirs to finish
            # Abandoned by a request that died, or a meeting made but not yet written: carry it on.
            return dataclasses.replace(current, claim=mark, claimed_at=now)

        link = self.services.store.update(MeetingLink, key, take)
        assert link is not None  # take() returns a record or keeps the existing one
        if link.claim == mark and link.state != "ready":
            return link, mark
        if link.state != "ready" and link.meeting_id and link.user_id != self.actor.user_id:
            if link.user_email:
                raise SchedulingError(
                    Text("{owner} is adding a meeting to this event. Refresh in a moment.", owner=link.user_email)
                )
            raise SchedulingError(Text("Someone else is adding a meeting to this event. Refresh in a moment."))
        return link, None

    def _wait_until_ready(self, key: str, link: MeetingLink) -> MeetingLink:
        deadline = time.monotonic() + WAIT_SECONDS
        while link.state != "ready":
            if time.monotonic() > deadline:
                raise StillWorking(Text("The meeting is being added by another request. Refresh in a moment."))
            time.sleep(0.2)
            current = self.services.store.get(MeetingLink, key)
            if current is None:
                raise SchedulingError(Text("Adding the meeting failed in another request. Try again."))
            link = current
        return link

    def _create(self, key: str, mark: str, link: MeetingLink, spec: MeetingSpec) -> Meeting:
        """The meeting for this claim: the one an earlier attempt already made, else a new one."""
        try:
            meeting = None
            if link.meeting_id:
                try:
                    meeting = self.provider_for(link.provider).update(link.meeting_id, spec)
                except MeetingGone:
                    meeting = None
            if meeting is None:
                meeting = self.provider_for(self.provider_name).create(spec, key)
                self._audit("create", key, meeting, "ok")
        except MeetingRejected as error:
            self._release(key, mark)
            # The service's own words pass through untranslated; only the frame is ours.
            said = Text("{service} said: {message}", service=display_name(error.provider), message=error.message)
            raise InvalidRequest("duration", said) from error
        except MeetingServiceError:
            self._release(key, mark)
            raise

        def created(current: MeetingLink | None) -> MeetingLink | None:
            if current is None or current.claim != mark:
                return None
            return dataclasses.replace(
                current,
                state="created",
                provider=meeting.provider,
                meeting_id=meeting.meeting_id,
                join_url=meeting.join_url,
                updated_at=datetime.now(UTC),
            )

        self.services.store.update(MeetingLink, key, created)
        return meeting

    def _write_to_calendar(
        self,
        key: str,
        mark: str,
        meeting: Meeting,
        write: Callable[[bool], CalendarEvent],
        confirm: Callable[[], CalendarEvent | None],
    ) -> CalendarEvent:
        """Write the join details; never leave a meeting on the service that no event and no link records."""
        try:
            return self._with_conference_fallback(meeting, write)
        except (GoogleUnavailable, GoogleQuota) as error:
            # The write may have landed with its answer lost (after a quota answer: an earlier try of it),
            # so look before undoing anything.
            busy = error if isinstance(error, GoogleQuota) else None
            try:
                event = confirm()
            except GoogleApiError:
                event = None
                landed_unknown = True
            else:
                landed_unknown = False
            if event is not None and event.private_properties.get(MEETING_PROPERTY) == meeting.meeting_id:
                return event
            if landed_unknown:
                self._release(key, mark)  # the link keeps the meeting for the retry
                if busy is not None:
                    kept = Text("The meeting is kept for your next try, but the event does not show it yet.")
                    raise CalendarBusy(kept, busy) from error
                raise CalendarNotUpdated(
                    Text("Google Calendar is not answering. The meeting is kept; try again in a minute.")
                ) from error
            undone = self._undo(key, mark, meeting)
            if busy is not None:
                said = (
                    Text("The meeting could not be added to the event, so it was deleted again.")
                    if undone
                    else Text("The meeting is kept for your next try, but the event does not show it yet.")
                )
                raise CalendarBusy(said, busy) from error
            raise CalendarNotUpdated(
                Text("The meeting could not be added to Google Calendar, so it was not kept. Try again.")
            ) from error
        except GoogleApiError as error:
            log.warning("writing the meeting to Calendar failed: %s", type(error).__name__)
            self._undo(key, mark, meeting)
            raise CalendarNotUpdated(
                Text("The meeting could not be added to Google Calendar, so it was not kept. Try again.")
            ) from error

    def _with_conference_fallback(self, meeting: Meeting, write: Callable[[bool], CalendarEvent]) -> CalendarEvent:
        """Try conferenceData first; where Calendar refuses it, the description and location carry the link.

        Calendar may refuse a third-party conference (400) or take the write and drop it silently; either
        way the description block and the location already carry the join details, and the add-on stops
        sending conferences for the rest of this process.
        """
        support = self.services.conference_support
        if support.accepted is not False:
            try:
                event = write(True)
            except GoogleRejected as error:
                # Only a refusal of the conference itself says anything about conferences.
                if isinstance(error, GoogleConflict) or "conference" not in str(error).lower():
                    raise
                log.info("Calendar refused third-party conferenceData (%s); writing without it", error.status)
                support.accepted = False
            else:
                kept = conference_kept(event, meeting)
                if kept is False and support.accepted is not False:
                    log.info("Calendar dropped third-party conferenceData silently; writing without it from now on")
                support.accepted = kept if kept is not None else support.accepted
                return event
        return write(False)

    def _undo(self, key: str, mark: str, meeting: Meeting) -> bool:
        """No orphans: delete the meeting again; if even that fails, keep the link so a retry reuses it.

        True if the meeting is gone."""
        try:
            self.provider_for(meeting.provider).delete(meeting.meeting_id)
        except MeetingServiceError as error:
            log.warning("could not delete meeting after a Calendar failure: %s", type(error).__name__)
            self._release(key, mark)
            self._audit("delete", key, meeting, "failed; kept for a retry")
            return False
        self._audit("delete", key, meeting, "undone after a Calendar failure")
        self.services.store.delete(MeetingLink, key)
        return True

    def _release(self, key: str, mark: str) -> None:
        """Give up this request's claim: forget a link with no meeting, keep one that has a meeting."""

        def release(current: MeetingLink | None) -> MeetingLink | None:
            if current is None or current.claim != mark:
                return None
            return dataclasses.replace(current, claim=None, claimed_at=None)

        link = self.services.store.update(MeetingLink, key, release)
        if link is not None and link.claim is None and not link.meeting_id and link.state != "ready":
            self.services.store.delete(MeetingLink, key)

    def _ready(self, key: str, mark: str | None, meeting: Meeting, event: CalendarEvent) -> MeetingLink:
        """Record the finished meeting; `mark` is the claim it must still hold (None for an update)."""
        now = datetime.now(UTC)

        def ready(current: MeetingLink | None) -> MeetingLink | None:
            if mark is not None and (current is None or current.claim != mark):
                return None  # removed or taken over meanwhile: theirs is the last word
            base = current or MeetingLink(link_id=key, user_id=self.actor.user_id, provider=meeting.provider)
            return dataclasses.replace(
                base,
                state="ready",
                claim=None,
                claimed_at=None,
                provider=meeting.provider,
                meeting_id=meeting.meeting_id,
                join_url=meeting.join_url,
                calendar_id=event.calendar_id,
                event_id=event.event_id,
                html_link=event.html_link,
                fingerprint=fingerprint(event),
                invitees=guests(event),
                no_fixed_time=meeting.no_fixed_time,
                created_at=base.created_at or now,
                updated_at=now,
                expires_at=self.link_expiry(event),
            )

        link = self.services.store.update(MeetingLink, key, ready)
        if link is None or link.meeting_id != meeting.meeting_id:
            log.warning("meeting link %s changed while the meeting was being written", key)
            return MeetingLink(
                link_id=key,
                user_id=self.actor.user_id,
                provider=meeting.provider,
                state="ready",
                meeting_id=meeting.meeting_id,
                join_url=meeting.join_url,
            )
        return link

    def link_expiry(self, event: CalendarEvent) -> datetime:
        """The policy's retention, counted from the meeting's end (a series: from now, renewed on each change)."""
        now = datetime.now(UTC)
        last = event.end if event.end is not None and not event.recurrence else now
        return max(last, now) + timedelta(days=self.retention_days)

    def _details_writer(
        self, meeting: Meeting, event: CalendarEvent, key: str, send_updates: str
    ) -> Callable[[bool], CalendarEvent]:
        """Writes the meeting's join details onto the existing event, with or without conferenceData."""

        def write(with_conference: bool) -> CalendarEvent:
            fields = self._fields(meeting, event, key, with_conference)
            return patch_event(
                self.services.google, self.actor.google_token, event.calendar_id, event.event_id, fields, send_updates
            )

        return write

    def _fields(self, meeting: Meeting, event: CalendarEvent | None, key: str, with_conference: bool) -> dict:
        icon = self.services.settings.base_url + "/static/logo.png"
        # Never replace a conference that is not ours (a Google Meet the organiser added, say).
        theirs = (
            event is not None
            and event.conference is not None
            and event.conference.conference_id
            not in (
                None,
                meeting.meeting_id,
            )
        )
        return event_fields(
            meeting,
            display_name(meeting.provider),
            event.description if event else "",
            event.location if event else "",
            key,
            icon,
            with_conference and not theirs,
        )

    def _audit(self, action: str, key: str, meeting: Meeting, outcome: str) -> None:
        now = datetime.now(UTC)
        retention = timedelta(days=self.retention_days)
        record = AuditRecord(
            audit_id=f"{self.actor.email.lower()}/{now.isoformat()}/{secrets.token_hex(4)}",
            user_email=self.actor.email.lower(),
            user_id=self.actor.user_id,
            action=action,
            provider=meeting.provider,
            meeting_id=meeting.meeting_id,
            event=key,
            outcome=outcome,
            at=now,
            expires_at=now + retention,
        )
        self.services.store.put(record)
        fields = {name: str(value) for name, value in record.properties().items()}
        log.info("meeting %s: %s", action, outcome, extra={"audit": fields})


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""
