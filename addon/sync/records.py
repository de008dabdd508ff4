"""One calendar's CalendarSync record: its lease, its sync token, its suspension and its quota backoff."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from addon.google.client import GoogleQuota, GoogleUsageLimitReached
from addon.outbound import backoff_seconds
from addon.store import CalendarSync, Store

log = logging.getLogger(__name__)

# Longer than one sync of a calendar can take; a sync that died frees the calendar after this.
LEASE_SECONDS = 120
# The calendars of one user that a request looks at (a user schedules on a handful).
USER_CALENDARS = 20
# Google asked us to slow down: the calendar is not read again for up to this long, twice as long on each
# repeat, up to the cap. A daily or usage limit refills over hours, so it waits hours.
QUOTA_BACKOFF_SECONDS = 30.0
QUOTA_BACKOFF_CAP_SECONDS = 3600.0
USAGE_LIMIT_BACKOFF_SECONDS = 3600.0
USAGE_LIMIT_BACKOFF_CAP_SECONDS = 6 * 3600.0


class SyncRecords:
    """Each change to a CalendarSync is one store transaction, so instances never undo each other's."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.quota_backoff_seconds = QUOTA_BACKOFF_SECONDS

    def get(self, sync_id: str) -> CalendarSync | None:
        return self.store.get(CalendarSync, sync_id)

    def add(self, user_id: str, email: str, calendar_id: str) -> CalendarSync | None:
        """Start keeping the calendar in step; None if it already was."""
        sync_id = CalendarSync.id_for(user_id, calendar_id)

        def add(current: CalendarSync | None) -> CalendarSync | None:
            if current is not None:
                return None
            return CalendarSync(sync_id=sync_id, user_id=user_id, user_email=email.lower(), calendar_id=calendar_id)

        return self.store.update(CalendarSync, sync_id, add)

    def of_user(self, user_id: str) -> list[CalendarSync]:
        return self.store.with_prefix(CalendarSync, user_id + "/", limit=USER_CALENDARS)

    def every(self, after: str = "", page: int = 100) -> Iterator[CalendarSync]:
        """Every calendar being kept in step (whose key sorts after `after`), a page at a time."""
        while True:
            records = self.store.with_prefix(CalendarSync, "", limit=page, after=after)
            yield from records
            if len(records) < page:
                return
            after = records[-1].sync_id

    def take_lease(self, sync_id: str) -> CalendarSync | None:
        """The record, leased to this sync; None if another sync holds it (which is then told to read again)."""
        now = datetime.now(UTC)
        taken: list[bool] = []

        def take(current: CalendarSync | None) -> CalendarSync | None:
            taken.clear()
            if current is None:
                return None
            if current.lease_until and current.lease_until > now:
                return dataclasses.replace(current, again=True)  # the holder reads once more
            taken.append(True)
            return dataclasses.replace(current, lease_until=now + timedelta(seconds=LEASE_SECONDS), again=False)

        record = self.store.update(CalendarSync, sync_id, take)
        return record if taken else None

    def clear_again(self, sync_id: str) -> tuple[CalendarSync | None, bool]:
        """Whether a signal came in during the sync (then the calendar is read once more)."""
        seen: list[bool] = []

        def clear(current: CalendarSync | None) -> CalendarSync | None:
            seen.clear()
            if current is None or not current.again:
                return None
            seen.append(True)
            return dataclasses.replace(current, again=False)

        return self.store.update(CalendarSync, sync_id, clear), bool(seen)

    def release(self, sync_id: str) -> None:
        self.store.update(
            CalendarSync, sync_id, lambda current: dataclasses.replace(current, lease_until=None) if current else None
        )

    def save_token(self, sync_id: str, token: str, *, by_user: bool) -> None:
        """Every change up to `token` is applied; a sync with the user's own token lifts a Google suspension."""
        now = datetime.now(UTC)

        def save(current: CalendarSync | None) -> CalendarSync | None:
            if current is None:
                return None
            lifted = by_user and current.suspended == "google"
            return dataclasses.replace(
                current,
                sync_token=token,
                synced_at=now,
                suspended=None if lifted else current.suspended,
                suspended_at=None if lifted else current.suspended_at,
                quota_backoff_until=None,
                quota_strikes=0,
            )

        self.store.update(CalendarSync, sync_id, save)

    def suspend(self, sync_id: str, who: str) -> None:
        log.warning("calendar sync suspended: %s refused access", who)
        now = datetime.now(UTC)

        def suspend(current: CalendarSync | None) -> CalendarSync | None:
            return dataclasses.replace(current, suspended=who, suspended_at=now) if current else None

        self.store.update(CalendarSync, sync_id, suspend)

    def lift(self, sync_id: str) -> None:
        self.store.update(
            CalendarSync,
            sync_id,
            lambda current: dataclasses.replace(current, suspended=None, suspended_at=None) if current else None,
        )

    def back_off(self, sync_id: str, quota: GoogleQuota) -> CalendarSync | None:
        """Google asked us to slow down: leave the calendar alone for a while, longer on each repeat."""
        now = datetime.now(UTC)
        if isinstance(quota, GoogleUsageLimitReached):
            base, cap = USAGE_LIMIT_BACKOFF_SECONDS, USAGE_LIMIT_BACKOFF_CAP_SECONDS
        else:
            base, cap = self.quota_backoff_seconds, QUOTA_BACKOFF_CAP_SECONDS

        def back_off(current: CalendarSync | None) -> CalendarSync | None:
            if current is None:
                return None
            strikes = current.quota_strikes + 1
            wait = max(quota.retry_after or 0.0, backoff_seconds(strikes - 1, base, cap))
            return dataclasses.replace(
                current, quota_strikes=strikes, quota_backoff_until=now + timedelta(seconds=wait)
            )

        record = self.store.update(CalendarSync, sync_id, back_off)
        if record is not None:
            log.info("calendar sync backs off after %d quota answers in a row", record.quota_strikes)
        return record
