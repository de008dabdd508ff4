"""Meetings no event shows: made by a create whose answer never came, or kept for a retry nobody made."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from addon.audit import AuditLog
from addon.google.client import background_calls
from addon.meetings.model import GrantRevoked, Meeting, MeetingServiceError, NotConnected
from addon.scheduling.claims import CLAIM_SECONDS
from addon.services import Services
from addon.store import MeetingLink, PendingCreate
from addon.sync.acting import ActingFor

log = logging.getLogger(__name__)


class GhostMeetings:
    """After its grace, a meeting left without an event is found by its link's key and deleted, unless a retry
    has put it on its event meanwhile; the audit log says which."""

    def __init__(self, services: Services, acting: ActingFor) -> None:
        self.services = services
        self.acting = acting
        self.audit_log = AuditLog(services.store)

    def sweep(self, limit: int = 100, now: datetime | None = None) -> int:
        """Settle the meetings left behind whose grace has ended; returns how many meetings were deleted."""
        with background_calls():
            pending = self.services.store.with_prefix(PendingCreate, "", limit=limit)
            return sum(self._settle(one, now or datetime.now(UTC)) for one in pending)

    def _settle(self, pending: PendingCreate, now: datetime) -> int:
        store = self.services.store
        if pending.due_at > now:
            return 0
        link = store.get(MeetingLink, pending.link_id)
        if link is not None and link.state == "ready":
            store.delete(PendingCreate, pending.link_id)  # a retry put it on its event
            return 0
        if link is not None and link.claimed_at and now - link.claimed_at < timedelta(seconds=CLAIM_SECONDS):
            return 0  # a retry is at work on it right now: the next sweep sees how it ended
        owner = MeetingLink(
            link_id=pending.link_id, user_id=pending.user_id, provider=pending.provider, user_email=pending.user_email
        )
        try:
            service = self.acting.service(owner)
            left = {link.meeting_id} if link is not None and link.meeting_id else set()
            found = service.find(pending.link_id, pending.start, pending.end) if pending.start < pending.end else None
            if found is not None:
                left.add(found.meeting_id)
            for meeting_id in sorted(left):
                service.delete(meeting_id)  # already gone is fine
                self._audit(pending, meeting_id)
        except (NotConnected, GrantRevoked):
            # Only the user can act on their account now; the audit log keeps what was created.
            log.warning(
                "a meeting left without an event cannot be deleted: the %s account is disconnected", owner.provider
            )
            left = set()
        except MeetingServiceError as error:
            log.info("looking for a meeting left without an event failed, next sweep: %s", type(error).__name__)
            return 0
        if link is not None:
            store.delete(MeetingLink, pending.link_id)
        store.delete(PendingCreate, pending.link_id)
        return len(left)

    def _audit(self, pending: PendingCreate, meeting_id: str) -> None:
        self.audit_log.record(
            user_id=pending.user_id,
            email=pending.user_email,
            action="delete",
            event=pending.link_id,
            meeting=Meeting(provider=pending.provider, meeting_id=meeting_id, join_url=""),
            outcome="deleted: no event showed it (its create got no answer, or its event could not be written)",
            retention_days=self.services.settings.audit_retention_days,
        )
