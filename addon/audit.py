"""The audit log: who did what to which meeting, kept for the retention and written to the logs too."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from addon.meetings.model import Meeting
from addon.store import AuditRecord, Store

log = logging.getLogger(__name__)


class AuditLog:
    """One AuditRecord per meeting created, updated or deleted, and the same line as a JSON `audit` field."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        *,
        user_id: str,
        email: str,
        action: str,
        event: str,
        meeting: Meeting,
        outcome: str,
        retention_days: int,
    ) -> None:
        now = datetime.now(UTC)
        entry = AuditRecord(
            # Keys sort by time, so a user's records list oldest first.
            audit_id=f"{email.lower()}/{now.isoformat()}/{secrets.token_hex(4)}",
            user_email=email.lower(),
            user_id=user_id,
            action=action,
            provider=meeting.provider,
            meeting_id=meeting.meeting_id,
            event=event,
            outcome=outcome,
            at=now,
            expires_at=now + timedelta(days=retention_days),
        )
        self.store.put(entry)
        fields = {name: str(value) for name, value in entry.properties().items()}
        log.info("meeting %s: %s", action, outcome, extra={"audit": fields})
