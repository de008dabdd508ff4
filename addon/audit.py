"""The audit log: who did what to which meeting, kept for the retention and written to the logs too."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

from addon.meetings.model import Meeting
from addon.store import AuditRecord, Store
from addon.tasks import LocalTasks

log = logging.getLogger(__name__)

# Pauses between the tries of a record written after the answer (the log line is written at once).
RETRY_PAUSES = (0.2, 1.0, 5.0)


class AuditLog:
    """One AuditRecord per meeting created, updated or deleted, and the same line as a JSON `audit` field."""

    def __init__(self, store: Store, later: LocalTasks | None = None) -> None:
        """With `later`, the record is stored on its task threads, after the user's answer."""
        self.store = store
        self.later = later

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
        fields = {name: str(value) for name, value in entry.properties().items()}
        log.info("meeting %s: %s", action, outcome, extra={"audit": fields})
        if self.later is None:
            self.store.put(entry)
        else:
            self.later.submit("audit:" + entry.audit_id, lambda: self._store_retrying(entry))

    def _store_retrying(self, entry: AuditRecord) -> None:
        for pause in (*RETRY_PAUSES, None):
            try:
                self.store.put(entry)
                return
            except Exception as error:
                if pause is None:
                    # The log line above still holds it; the store's copy is what the admin command lists.
                    log.error("audit record %s not stored: %s", entry.audit_id, type(error).__name__)
                    return
                log.warning("storing an audit record failed, trying again: %s", type(error).__name__)
                time.sleep(pause)
