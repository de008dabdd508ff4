"""The use cases: schedule a meeting from an email, add one to an event, bring it up to date, remove it; each once."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from addon.audit import AuditLog
from addon.google.calendar import CalendarEvent, insert_event, patch_event, read_event
from addon.google.client import GoogleApiError, GoogleConflict, GoogleNotFound, GoogleQuota
from addon.join_details import MEETING_PROPERTY, conference_kept, shows_meeting
from addon.join_details.writer import JoinDetailsWriter
from addon.meeting_links import event_key, link_expiry, meeting_spec
from addon.meetings.catalog import display_name
from addon.meetings.model import (
    KnownMeeting,
    Meeting,
    MeetingGone,
    MeetingOptions,
    MeetingRejected,
    MeetingServiceError,
    MeetingSpec,
    ServiceUnavailable,
)
from addon.meetings.model import Provider as MeetingService
from addon.policy import EffectiveSettings
from addon.scheduling.claims import LinkClaims
from addon.scheduling.errors import (
    CalendarBusy,
    CalendarNotUpdated,
    InvalidRequest,
    MeetingUncertain,
    SchedulingError,
)
from addon.scheduling.landing import complete_later, write_or_undo
from addon.scheduling.requests import Actor, CalendarTracker, EmailMeetingRequest, MeetingOnEvent
from addon.services import Services
from addon.store import MeetingLink
from addon.user_state import UserState
from cards.i18n import Text

log = logging.getLogger(__name__)

MIN_MINUTES, MAX_MINUTES = 5, 24 * 60


class Scheduler:
    """Use cases for one user with their effective settings (service, site, options); never sees Flask."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        defaults: EffectiveSettings,
        *,
        tracker: CalendarTracker | None,
        known: UserState | None = None,
        user_waiting: bool = False,
    ) -> None:
        """`known`: what the request has read of the user already. With `user_waiting`, work the answer does
        not depend on (audit rows, tracking the calendar) runs after it, on the process's task threads."""
        self.services = services
        self.actor = actor
        self.defaults = defaults
        self.tracker = tracker
        self.known = known
        self.user_waiting = user_waiting
        self.retention_days = defaults.retention_days or services.settings.audit_retention_days
        self.claims = LinkClaims(services.store)
        self.audit_log = AuditLog(services.store, services.after_answer if user_waiting else None)
        self._services: dict[str, MeetingService] = {}
        self.writer = JoinDetailsWriter(
            services.google, services.conference_support, services.settings.base_url + "/static/logo.png"
        )

    @property
    def provider_name(self) -> str:
        return self.defaults.provider

    def service(self, name: str) -> MeetingService:
        """The meeting service `name`, acting for this user (one per use case, so its grant is read once)."""
        if name not in self._services:
            meetings = self.services.meetings
            self._services[name] = meetings.provider(self.actor.user_id, name, self.defaults.webex_site, self.known)
        return self._services[name]

    # From Gmail -----------------------------------------------------------------------------

    def schedule_from_email(self, request: EmailMeetingRequest) -> MeetingOnEvent:
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
        zone = self.actor.zone
        start = request.start.astimezone(zone)
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
            return MeetingOnEvent(self.claims.wait_until_ready(key, link), None, None)

        spec = MeetingSpec(title, start, end, zone.key, invitees=attendees, options=self._options())
        meeting = self._create(key, mark, link, spec)
        send = "all" if request.send_invitations else "none"
        google, token = self.services.google, self.actor.google_token

        def insert(with_conference: bool) -> CalendarEvent:
            body = {
                "id": event_id,
                "summary": title,
                "start": {"dateTime": start.isoformat(), "timeZone": zone.key},
                "end": {"dateTime": end.isoformat(), "timeZone": zone.key},
                "attendees": [{"email": a} for a in attendees],
                **self.writer.fields(meeting, None, key, with_conference),
            }
            try:
                return insert_event(google, token, calendar_id, body, send)
            except GoogleConflict:
                return self._existing(
                    meeting,
                    calendar_id=calendar_id,
                    event_id=event_id,
                    key=key,
                    with_conference=with_conference,
                    body=body,
                    send=send,
                )

        event = write_or_undo(self, key, mark, meeting, insert, lambda: self._read_if_there(calendar_id, event_id))
        link = self._ready(key, mark, meeting, event)
        complete_later(self, key, meeting, event)
        return MeetingOnEvent(link, meeting, event)

    def _existing(
        self,
        meeting: Meeting,
        *,
        calendar_id: str,
        event_id: str,
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
        ours = event.private_properties.get(MEETING_PROPERTY) == meeting.meeting_id
        # Already written by an earlier attempt; written again only if it lacks the conference we now send,
        # so that what Calendar answers is an answer to this write.
        if ours and not (with_conference and conference_kept(event, meeting) is False):
            return event
        fields = self.writer.fields(meeting, event, key, with_conference)
        return patch_event(google, token, calendar_id, event_id, fields, "none")

    # In Calendar ----------------------------------------------------------------------------

    def add_to_event(self, calendar_id: str, event_id: str, send_updates: str = "all") -> MeetingOnEvent:
        """A meeting for the event (for the whole series of a recurring one), written onto it; once only."""
        event = self._series(calendar_id, event_id)
        check_times(event)
        key = event_key(calendar_id, event.event_id)
        link, mark = self._claim(key)
        if mark is None:
            # Another request wrote the details; the event read above predates them.
            return MeetingOnEvent(self.claims.wait_until_ready(key, link), None, None)

        meeting = self._create(key, mark, link, self.spec(event))
        token = self.actor.google_token

        def write(with_conference: bool) -> CalendarEvent:
            fields = self.writer.fields(meeting, event, key, with_conference)
            return patch_event(self.services.google, token, calendar_id, event.event_id, fields, send_updates)

        written = write_or_undo(
            self, key, mark, meeting, write, lambda: self._read_if_there(calendar_id, event.event_id)
        )
        link = self._ready(key, mark, meeting, written)
        complete_later(self, key, meeting, written)
        return MeetingOnEvent(link, meeting, written)

    def update_meeting(self, calendar_id: str, event_id: str) -> MeetingOnEvent:
        """Bring the meeting in line with the event's current title and time."""
        event = self._series(calendar_id, event_id)
        key = event_key(calendar_id, event.event_id)
        link = self._own_link(key)
        if link.state != "ready" or not link.meeting_id:
            raise SchedulingError(Text("The meeting is still being added. Refresh in a moment."))
        check_times(event)
        meeting = self.service(link.provider).update(link.meeting_id, self.spec(event), known=known_meeting(link))
        self.audit("update", key, meeting, "ok")
        # The guests already have the join details: the event is written again only if they changed or are gone.
        if meeting.join_url == link.join_url and shows_meeting(event, meeting):
            return MeetingOnEvent(self._ready(key, None, meeting, event), meeting, event)
        try:
            written = self.writer.write(meeting, event, key, token=self.actor.google_token, send_updates="all")
        except GoogleQuota as error:
            raise CalendarBusy(Text("The meeting was updated, but Google Calendar could not be."), error) from error
        except GoogleApiError as error:
            raise CalendarNotUpdated(
                Text("The meeting was updated, but Google Calendar could not be. Try Update meeting again.")
            ) from error
        return MeetingOnEvent(self._ready(key, None, meeting, written), meeting, written)

    def remove_from_event(self, calendar_id: str, event_id: str) -> CalendarEvent:
        """Take the join details off the event, then delete the meeting on its service."""
        event = self._series(calendar_id, event_id)
        key = event_key(calendar_id, event.event_id)
        link = self._own_link(key)
        # The event first: a failure here leaves both the meeting and its link as they were.
        try:
            written = self.writer.take_off(
                event, token=self.actor.google_token, join_url=link.join_url, meeting_id=link.meeting_id
            )
        except GoogleQuota as error:
            raise CalendarBusy(Text("Google Calendar could not be changed, so the meeting was kept."), error) from error
        except GoogleApiError as error:
            raise CalendarNotUpdated(Text("Google Calendar could not be changed, so the meeting was kept.")) from error
        if link.meeting_id:
            self.service(link.provider).delete(link.meeting_id)  # already gone is fine
            gone = Meeting(provider=link.provider, meeting_id=link.meeting_id, join_url=link.join_url or "")
            self.audit("delete", key, gone, "ok")
        self.services.store.delete(MeetingLink, key)
        self.link_seen(key, None)
        return written

    # Shared with sync -----------------------------------------------------------------------

    def spec(self, event: CalendarEvent) -> MeetingSpec:
        """The meeting an event describes, with this user's options (the event's times must have been checked)."""
        return meeting_spec(event, zone=self.actor.zone.key, options=self._options())

    def audit(self, action: str, key: str, meeting: Meeting, outcome: str) -> None:
        self.audit_log.record(
            user_id=self.actor.user_id,
            email=self.actor.email,
            action=action,
            event=key,
            meeting=meeting,
            outcome=outcome,
            retention_days=self.retention_days,
        )

    def expiry(self, event: CalendarEvent) -> datetime:
        """When the event's link expires: the retention after the meeting's end."""
        return link_expiry(event, self.retention_days)

    # Steps ----------------------------------------------------------------------------------

    def _options(self) -> MeetingOptions:
        return MeetingOptions(waiting_room=self.defaults.waiting_room, template_id=self.defaults.template_id)

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

    def _own_link(self, key: str) -> MeetingLink:
        known = self.known
        link = (
            known.link(key) if known is not None and known.has_link(key) else self.services.store.get(MeetingLink, key)
        )
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

    def _claim(self, key: str) -> tuple[MeetingLink, str | None]:
        return self.claims.claim(key, user_id=self.actor.user_id, email=self.actor.email, provider=self.provider_name)

    def _create(self, key: str, mark: str, link: MeetingLink, spec: MeetingSpec) -> Meeting:
        """The meeting for this claim: the one an earlier attempt already made, else a new one."""
        try:
            meeting = None
            if link.meeting_id:
                try:
                    meeting = self.service(link.provider).update(link.meeting_id, spec)
                except MeetingGone:
                    meeting = None
            if meeting is None:
                maybe_made = self.claims.may_have_made(link)
                meeting = self.service(self.provider_name).create(spec, key, maybe_made=maybe_made)
                self.audit("create", key, meeting, "ok")
        except ServiceUnavailable as error:
            # No answer: the meeting may exist all the same. The next attempt looks for it first; if nobody
            # tries again, the sweep finds it by the link's key and deletes it (addon/sync/ghosts.py).
            self.claims.release(key, mark, create_uncertain=True)
            self.left_behind(key, self.provider_name, (spec.start, spec.end))
            name = display_name(error.provider)
            raise MeetingUncertain(
                Text(
                    "{service} did not answer in time, so the add-on cannot tell whether the meeting was made. "
                    "Try again in a few minutes: your next try uses it if it exists, and the add-on deletes it "
                    "if you do not try again.",
                    service=name,
                )
            ) from error
        except MeetingRejected as error:
            self.claims.release(key, mark)
            # The service's own words pass through untranslated; only the frame is ours.
            said = Text("{service} said: {message}", service=display_name(error.provider), message=error.message)
            raise InvalidRequest("duration", said) from error
        except MeetingServiceError:
            self.claims.release(key, mark)
            raise
        # Not recorded yet: the link gets the meeting with the event (`_ready`), or on the way out of a failure
        # (`release`); a request that dies in between leaves a claim whose taker looks for the meeting first.
        return meeting

    def _ready(self, key: str, mark: str | None, meeting: Meeting, event: CalendarEvent) -> MeetingLink:
        link = self.claims.ready(
            key, mark, user_id=self.actor.user_id, meeting=meeting, event=event, expires_at=self.expiry(event)
        )
        self.link_seen(key, link)
        if mark is not None:
            self._keep_in_step(event.calendar_id)
        return link

    def left_behind(self, key: str, provider: str, window: tuple[datetime, datetime] | None = None) -> None:
        """A meeting may be left on `provider` that no event shows: the sweep deletes it unless a retry takes it."""
        actor = self.actor
        self.claims.left_behind(key, user_id=actor.user_id, email=actor.email, provider=provider, window=window)

    def link_seen(self, key: str, link: MeetingLink | None) -> None:
        if self.known is not None:
            self.known.link_seen(key, link)

    def _keep_in_step(self, calendar_id: str) -> None:
        """From now on the calendar's changes reach its meetings (addon/sync)."""
        tracker = self.tracker
        if tracker is None:
            return
        actor = self.actor

        def track() -> None:
            try:
                tracker.track(actor.user_id, actor.email, calendar_id, actor.google_token or None)
            except Exception as error:
                # The meeting is made and on the event: that answer stands. The calendar is tracked with the
                # next meeting put on it; until then the card's "Update meeting" covers its changes.
                log.warning("could not start keeping the calendar in step: %s", type(error).__name__)

        if self.user_waiting:
            self.services.after_answer.submit(f"track:{actor.user_id}:{calendar_id}", track)
        else:
            track()


def known_meeting(link: MeetingLink) -> KnownMeeting | None:
    """What the link knows of its meeting, so an update need not ask the service first."""
    if not link.join_url:
        return None
    return KnownMeeting(link.link_id, link.join_url, link.invitees, link.no_fixed_time)


def check_times(event: CalendarEvent) -> None:
    """A meeting needs a time: an all-day event or one without length has none."""
    if event.start is None or event.end is None or event.all_day:
        raise InvalidRequest("time", Text("All-day events have no meeting time. Give the event a start and end first."))
    if event.end <= event.start:
        raise InvalidRequest("time", Text("The event ends when it starts. Give it a length first."))
