"""What one changed event means for its meeting: follow it, delete it, move it, strip a copy, change one occurrence."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence

from addon.google.calendar import CalendarEvent, patch_event, read_event
from addon.google.client import GoogleUnavailable
from addon.join_details import EVENT_PROPERTY, MEETING_PROPERTY
from addon.join_details.writer import JoinDetailsWriter
from addon.meeting_links import event_key, fingerprint, guests
from addon.meetings.model import GrantRevoked, Meeting, MeetingGone, MeetingRejected, NotConnected
from addon.scheduling import Scheduler, SchedulingError
from addon.services import Services
from addon.store import CalendarSync, MeetingLink, PendingDeletion
from addon.sync.acting import ActingFor
from addon.sync.deletions import Deletions
from addon.sync.follow import follow_event
from addon.sync.report import Suspended, SyncReport, TryLater

log = logging.getLogger(__name__)

# Datastore answers at most 1,000 keys a lookup; half that keeps each answer small.
LOOKUP_LIMIT = 500


class EventChanges:
    """Applies one event, as Calendar now lists it, to the meeting the add-on made for it (if any)."""

    def __init__(self, services: Services, acting: ActingFor, deletions: Deletions) -> None:
        self.services = services
        self.acting = acting
        self.deletions = deletions
        self.writer = JoinDetailsWriter(
            services.google, services.conference_support, services.settings.base_url + "/static/logo.png"
        )

    def apply(
        self,
        record: CalendarSync,
        event: CalendarEvent,
        token: str,
        report: SyncReport,
        links: Mapping[str, MeetingLink | None] | None = None,
    ) -> None:
        """Raises Suspended (access refused: stop the calendar's sync) or TryLater (read it again later).

        `links`: the links of a page of events, read together (`links_of`); others are read here."""
        if event.recurring_event_id:
            self._occurrence(record, event, report)
            return
        key = event_key(record.calendar_id, event.event_id)
        link = links[key] if links is not None and key in links else self.services.store.get(MeetingLink, key)
        mine = link is not None and link.user_id == record.user_id and link.state == "ready"
        if event.cancelled:
            if link is not None and mine:
                self.deletions.event_deleted(link, report)
            return
        if link is not None:
            if mine:
                self._follow(record, link, event, token, report)
            return
        origin = event.private_properties.get(EVENT_PROPERTY)
        if origin and origin != key and event.private_properties.get(MEETING_PROPERTY):
            self._carries_other_meeting(record, origin, key, event, token, report)

    def links_of(self, record: CalendarSync, events: Sequence[CalendarEvent]) -> dict[str, MeetingLink | None]:
        """The links of these events (occurrences aside), in one store lookup rather than one each."""
        keys = [event_key(record.calendar_id, e.event_id) for e in events if not e.recurring_event_id]
        links: dict[str, MeetingLink | None] = {}
        for start in range(0, len(keys), LOOKUP_LIMIT):
            chunk = keys[start : start + LOOKUP_LIMIT]
            found = self.services.store.get_many([(MeetingLink, key) for key in chunk])
            links |= {
                key: link if isinstance(link, MeetingLink) else None for key, link in zip(chunk, found, strict=True)
            }
        return links

    def _scheduler(self, record: CalendarSync, token: str, event: CalendarEvent, provider: str | None) -> Scheduler:
        return self.acting.scheduler(
            user_id=record.user_id, email=record.user_email, token=token, zone=event.time_zone, provider=provider
        )

    def _follow(
        self, record: CalendarSync, link: MeetingLink, event: CalendarEvent, token: str, report: SyncReport
    ) -> None:
        """The event's title, time or guests changed: the meeting follows."""
        if link.fingerprint == fingerprint(event) and link.invitees == guests(event):
            return
        if event.start is None or event.end is None or event.all_day or event.end <= event.start:
            log.info("event has no meeting time any more; its meeting keeps the last one")
            return
        scheduler = self._scheduler(record, token, event, link.provider)
        try:
            follow_event(scheduler, link, event, rotate=self.acting.rotates_passcodes(record.user_email))
        except (NotConnected, GrantRevoked) as error:
            raise Suspended(link.provider) from error
        except MeetingGone:
            self._meeting_gone(scheduler, link, event)
        except MeetingRejected as error:
            # The service will not take this change (say, a length it does not allow); the audit says so.
            scheduler.audit(
                "update", link.link_id, _meeting_of(link), f"not followed; the service said: {error.message}"
            )
        except GoogleUnavailable as error:
            raise TryLater("Calendar") from error
        else:
            report.updated += 1

    def _carries_other_meeting(
        self, record: CalendarSync, origin: str, key: str, event: CalendarEvent, token: str, report: SyncReport
    ) -> None:
        """The event carries join details written for another event: it was moved here, or duplicated."""
        source = self.services.store.get(MeetingLink, origin)
        if source is not None and source.user_id != record.user_id:
            return  # another user's meeting; their own sync of their calendar decides
        moved = origin.rsplit("/", 1)[-1] == event.event_id
        if moved and source is not None:
            self._moved(record, source, key, event, token)
            report.moved += 1
            return
        # A copy (or a move whose meeting is gone): never two events silently sharing one meeting.
        # The copy's guests may hold the other event's link; they are told it no longer applies.
        meeting_id = event.private_properties[MEETING_PROPERTY]
        self.writer.take_off(event, token=token, join_url=source.join_url if source else None, meeting_id=meeting_id)
        report.copies += 1
        policy = self.services.policies.for_email(record.user_email)
        if policy is not None and policy.copied_events == "new":
            fresh = read_event(self.services.google, token, record.calendar_id, event.event_id)
            scheduler = self._scheduler(record, token, fresh, source.provider if source else None)
            try:
                scheduler.add_to_event(record.calendar_id, event.event_id, send_updates="all")
            except (NotConnected, GrantRevoked) as error:
                raise Suspended(scheduler.provider_name) from error
            except SchedulingError as error:
                log.info("no meeting for a copied event: %s", type(error).__name__)

    def _moved(self, record: CalendarSync, source: MeetingLink, key: str, event: CalendarEvent, token: str) -> None:
        """The event moved to another calendar: the meeting and its link go with it."""
        moved = dataclasses.replace(source, link_id=key, calendar_id=record.calendar_id, event_id=event.event_id)
        self.services.store.put(moved)
        self.services.store.delete(MeetingLink, source.link_id)
        self.services.store.delete(PendingDeletion, source.link_id)
        properties = {"extendedProperties": {"private": {EVENT_PROPERTY: key}}}
        patch_event(self.services.google, token, record.calendar_id, event.event_id, properties, "none")
        scheduler = self._scheduler(record, token, event, source.provider)
        scheduler.audit("update", moved.link_id, _meeting_of(moved), f"moved with its event from {source.calendar_id}")
        self._follow(record, moved, event, token, SyncReport())

    def _meeting_gone(self, scheduler: Scheduler, link: MeetingLink, event: CalendarEvent) -> None:
        """Someone deleted the meeting on the service itself: the event stops advertising a dead link."""
        token = scheduler.actor.google_token
        self.writer.take_off(event, token=token, join_url=link.join_url, meeting_id=link.meeting_id)
        self.services.store.delete(MeetingLink, link.link_id)
        scheduler.audit(
            "delete", link.link_id, _meeting_of(link), "deleted on the service; details taken off the event"
        )

    def _occurrence(self, record: CalendarSync, event: CalendarEvent, report: SyncReport) -> None:
        """One occurrence of a series was moved, retitled or cancelled: only that occurrence changes."""
        series = event.recurring_event_id or ""
        link = self.services.store.get(MeetingLink, event_key(record.calendar_id, series))
        if link is None or link.user_id != record.user_id or link.state != "ready" or not link.meeting_id:
            return
        if event.original_start is None:
            return
        service = self.acting.service(link)
        if not service.series_occurrences:
            return  # one room for every occurrence: nothing on the service to change
        scheduler = self._scheduler(record, "", event, link.provider)
        try:
            if event.cancelled:
                service.cancel_occurrence(link.meeting_id, event.original_start)
                outcome = "occurrence cancelled in Calendar"
            else:
                if event.start is None or event.end is None or event.all_day or event.end <= event.start:
                    return
                service.update_occurrence(link.meeting_id, event.original_start, scheduler.spec(event))
                outcome = "occurrence changed in Calendar"
        except (NotConnected, GrantRevoked) as error:
            raise Suspended(link.provider) from error
        except (MeetingGone, MeetingRejected) as error:
            log.info("occurrence not changed on the service: %s", type(error).__name__)
            return
        scheduler.audit("update", link.link_id, _meeting_of(link), outcome)
        report.occurrences += 1


def _meeting_of(link: MeetingLink) -> Meeting:
    """The meeting a link records, for the audit."""
    return Meeting(provider=link.provider, meeting_id=link.meeting_id or "", join_url=link.join_url or "")
