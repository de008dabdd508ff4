"""A deleted event's meeting is deleted after a grace period, unless the event moved or came back meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from addon.audit import AuditLog
from addon.google.calendar import read_event
from addon.google.client import GoogleApiError, GoogleQuota, background_calls
from addon.meetings.model import GrantRevoked, Meeting, MeetingServiceError, NotConnected
from addon.services import Services
from addon.store import CalendarSync, MeetingLink, PendingDeletion
from addon.sync.acting import ActingFor
from addon.sync.report import Suspended, SyncReport, TryLater

log = logging.getLogger(__name__)


class Deletions:
    """Deleting meetings of deleted events: at once, or once the grace period has passed (the sweep)."""

    def __init__(
        self,
        services: Services,
        acting: ActingFor,
        *,
        suspend: Callable[[str, str], None],
        delete_later: Callable[[str, datetime], None],
    ) -> None:
        self.services = services
        self.acting = acting
        self.suspend = suspend  # (sync_id, who): a refused access stops that calendar's sync
        self.delete_later = delete_later  # (link_id, when): a task for the end of the grace period
        self.audit_log = AuditLog(services.store)

    def event_deleted(self, link: MeetingLink, report: SyncReport) -> None:
        """The event is gone from Calendar: its meeting goes now, or after the grace period."""
        grace = self.services.settings.sync_delete_grace_seconds
        if grace <= 0:
            self.delete_meeting(link, "event deleted in Calendar")
        else:
            due = datetime.now(UTC) + timedelta(seconds=grace)
            self.services.store.put(PendingDeletion(link_id=link.link_id, user_id=link.user_id, due_at=due))
            # Gone when the grace ends, not at the next reconcile; the reconcile's sweep is the backstop.
            self.delete_later(link.link_id, due)
        report.deleted += 1

    def delete_meeting(self, link: MeetingLink, outcome: str) -> None:
        """Delete the meeting on its service and forget it (an auth error deletes nothing, and suspends)."""
        if link.meeting_id:
            try:
                self.acting.service(link).delete(link.meeting_id)
            except (NotConnected, GrantRevoked) as error:
                raise Suspended(link.provider) from error
            except MeetingServiceError as error:
                raise TryLater(link.provider) from error
            self.audit_log.record(
                user_id=link.user_id,
                email=link.user_email or "",
                action="delete",
                event=link.link_id,
                meeting=Meeting(provider=link.provider, meeting_id=link.meeting_id, join_url=link.join_url or ""),
                outcome=outcome,
                retention_days=self.services.settings.audit_retention_days,
            )
        self.services.store.delete(MeetingLink, link.link_id)
        self.services.store.delete(PendingDeletion, link.link_id)

    def sweep(self, limit: int = 200, now: datetime | None = None) -> int:
        """Delete the meetings whose events stayed deleted through the grace period; returns how many."""
        with background_calls():
            return self._sweep(limit, now or datetime.now(UTC))

    def due(self, link_id: str) -> bool:
        """The grace period of one deleted event ended (its task): delete the meeting unless the event is back."""
        pending = self.services.store.get(PendingDeletion, link_id)
        if pending is None:
            return False
        with background_calls():
            return self._settle(pending, datetime.now(UTC))

    def _sweep(self, limit: int, now: datetime) -> int:
        pending = self.services.store.with_prefix(PendingDeletion, "", limit=limit)
        return sum(self._settle(one, now) for one in pending)

    def _settle(self, pending: PendingDeletion, now: datetime) -> bool:
        """True if the meeting was deleted; a pending deletion not yet due, or whose event is back, stays or goes."""
        if pending.due_at > now:
            return False
        link = self.services.store.get(MeetingLink, pending.link_id)
        if link is None:  # moved with its event, or removed meanwhile
            self.services.store.delete(PendingDeletion, pending.link_id)
            return False
        try:
            if self._event_is_back(link):
                self.services.store.delete(PendingDeletion, pending.link_id)
                return False
            self.delete_meeting(link, "event deleted in Calendar")
        except Suspended as stop:
            self.suspend(CalendarSync.id_for(link.user_id, link.calendar_id or ""), stop.who)
            return False
        except TryLater:
            return False
        return True

    def _event_is_back(self, link: MeetingLink) -> bool:
        """Calendar's Undo brings a deleted event back; then its meeting stays."""
        if not self.services.offline.available or not link.calendar_id or not link.event_id or not link.user_email:
            return False
        try:
            token = self.services.offline.token_for(link.user_email)
            read_event(self.services.google, token, link.calendar_id, link.event_id)
        except GoogleQuota as error:
            raise TryLater("Calendar") from error  # no answer yet: the deletion waits for the next sweep
        except GoogleApiError:
            return False
        return True
