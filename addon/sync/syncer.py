"""Keeping meetings in step with their events: read each calendar's changes and apply them to the meetings.

Signals that a calendar changed: Calendar push notifications (web/hooks), the user saving an event with the
add-on open, any request that brings the user's token, and the periodic reconcile (web/tasks). Each only
says "look"; what changed is read here with the calendar's sync token, so a lost, repeated or late
signal costs nothing but a list call.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from addon.google.calendar import CalendarEvent, SyncTokenExpired, changed_events
from addon.google.client import GoogleApiError, GoogleQuota, GoogleUnauthorized, background_calls
from addon.meetings.model import MeetingServiceError
from addon.scheduling import CalendarBusy
from addon.services import Services
from addon.store import CalendarSync
from addon.sync.acting import ActingFor
from addon.sync.changes import EventChanges
from addon.sync.channels import Channels
from addon.sync.deletions import Deletions
from addon.sync.ghosts import GhostMeetings
from addon.sync.reconcile import reconcile_all
from addon.sync.records import SyncRecords
from addon.sync.report import Suspended, SyncReport, TryLater
from addon.tasks import LocalSyncQueue, SyncQueue

log = logging.getLogger(__name__)

# A full read (first sync, or after Calendar dropped the sync token) starts this far back: meetings of
# events that ended before then are over, and their links expire with the retention period.
FULL_SYNC_DAYS = 30
# A signal that arrives while a calendar is being synced makes the syncer read it again, this often at most.
MAX_ROUNDS = 3
# A user's own requests start a sync of their calendars at most this often (when no service account can).
USER_SYNC_INTERVAL_SECONDS = 60.0


class CalendarSyncer:
    """Applies calendar changes to meetings, for every user and calendar the add-on made meetings on.

    It is the scheduler's CalendarTracker: a calendar is tracked from its first meeting on.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.user_sync_interval_seconds = USER_SYNC_INTERVAL_SECONDS
        self.records = SyncRecords(services.store)
        self.acting = ActingFor(services, tracker=self)
        self.deletions = Deletions(services, self.acting, suspend=self._suspend, delete_later=self._delete_later)
        self.changes = EventChanges(services, self.acting, self.deletions)
        self.ghosts = GhostMeetings(services, self.acting)
        self.channels = Channels(services, self.records, self._back_off)
        self._local_queue = LocalSyncQueue(services.tasks, self.sync, self.deletions.due)
        self._last_user_sync: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def queue(self) -> SyncQueue:
        """Cloud Tasks where configured (ADDON_TASKS_QUEUE), else this process's own threads."""
        return self.services.cloud_tasks or self._local_queue

    @property
    def quota_backoff_seconds(self) -> float:
        """The first wait after Google asks to slow down (doubling on repeats)."""
        return self.records.quota_backoff_seconds

    @quota_backoff_seconds.setter
    def quota_backoff_seconds(self, seconds: float) -> None:
        self.records.quota_backoff_seconds = seconds

    # Which calendars -------------------------------------------------------------------------

    def track(self, user_id: str, email: str, calendar_id: str, google_token: str | None) -> None:
        """Keep this user's calendar in step from now on (called when a meeting is put on it)."""
        record = self.records.add(user_id, email, calendar_id)
        if record is not None and record.sync_token is None:
            # The first full read gives the sync token; with a service account it also opens a push channel.
            self.submit(record.sync_id, google_token)

    def user_is_here(self, user_id: str, google_token: str) -> None:
        """A request brought the user's token: sync their calendars now and then (all of them without a
        service account; with one, those it could not reach), which also lifts a Google suspension."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_user_sync.get(user_id, float("-inf")) < self.user_sync_interval_seconds:
                return
            if len(self._last_user_sync) > 100_000:
                self._last_user_sync.clear()
            self._last_user_sync[user_id] = now
        offline = self.services.offline.available
        for record in self.records.of_user(user_id):
            if not offline or record.suspended == "google":
                self.submit(record.sync_id, google_token)

    def refused_by(self, user_id: str) -> list[str]:
        """Who stopped the sync of each of the user's calendars by refusing access ("google" or a service)."""
        return [record.suspended for record in self.records.of_user(user_id) if record.suspended]

    def follow_now(self, user_id: str, email: str, google_token: str, event: CalendarEvent) -> bool:
        """The user saved the event with the add-on open: its meeting follows at once. True if it changed."""
        record = CalendarSync(
            sync_id=CalendarSync.id_for(user_id, event.calendar_id),
            user_id=user_id,
            user_email=email.lower(),
            calendar_id=event.calendar_id,
        )
        report = SyncReport()
        try:
            self.changes.apply(record, event, google_token, report)
        except Suspended as stop:
            self._suspend(record.sync_id, stop.who)
            return False
        except (TryLater, GoogleQuota, CalendarBusy):
            return False  # the calendar's next sync reads this change again
        return bool(report.updated or report.occurrences)

    def resume(self, user_id: str, who: str, google_token: str | None = None) -> None:
        """The user reconnected `who` ("google" or a provider): lift that suspension and catch up."""
        for record in self.records.of_user(user_id):
            if record.suspended == who:
                self.records.lift(record.sync_id)
                self.submit(record.sync_id, google_token)

    def submit(self, sync_id: str, google_token: str | None = None) -> None:
        """Sync the calendar soon: through the queue, or here with the user's token (which never enters a queue)."""
        if google_token is None and self.queue.sync_later(sync_id):
            return
        self.services.tasks.submit("sync:" + sync_id, lambda: self.sync(sync_id, google_token))

    # One calendar ----------------------------------------------------------------------------

    def sync(self, sync_id: str, google_token: str | None = None) -> SyncReport | None:
        """Read the calendar's changes since the last sync and apply them; None if another sync has it."""
        record = self.records.take_lease(sync_id)
        if record is None:
            return None  # the holder was told to read once more
        report = SyncReport()
        try:
            with background_calls():
                for _ in range(MAX_ROUNDS):
                    report = self._sync_once(record, google_token)
                    fresh, again = self.records.clear_again(sync_id)
                    if fresh is None or not again:
                        break
                    record = fresh
        finally:
            self.records.release(sync_id)
        log.info("calendar synced: %s", report.outcome, extra={"sync": dataclasses.asdict(report)})
        return report

    def _sync_once(self, record: CalendarSync, google_token: str | None) -> SyncReport:
        report = SyncReport()
        if record.suspended and google_token is None:
            report.outcome = f"suspended ({record.suspended})"
            return report
        if google_token is None and not self.services.offline.available:
            report.outcome = "waiting for the user's next request"
            return report
        if record.quota_backoff_until is not None and record.backing_off():
            # Signals meanwhile cost no call to Calendar; one sync after the backoff reads what they announced.
            report.outcome = "backing off (Google asked to slow down)"
            self._sync_after(record.sync_id, record.quota_backoff_until)
            return report
        try:
            token = google_token or self.services.offline.token_for(record.user_email)
            window = datetime.now(UTC) - timedelta(days=FULL_SYNC_DAYS)
            try:
                changes = changed_events(self.services.google, token, record.calendar_id, record.sync_token, window)
            except SyncTokenExpired:
                log.info("Calendar dropped a sync token; reading the calendar in full")
                changes = changed_events(self.services.google, token, record.calendar_id, None, window)
            report.full = changes.full
            links = self.changes.links_of(record, changes.events)
            for event in changes.events:
                report.events += 1
                self.changes.apply(record, event, token, report, links)
        except Suspended as stop:
            self._suspend(record.sync_id, stop.who)
            report.outcome = f"suspended ({stop.who})"
            return report
        except GoogleUnauthorized:
            self._suspend(record.sync_id, "google")
            report.outcome = "suspended (google)"
            return report
        except (GoogleQuota, CalendarBusy) as error:
            # Not a refusal: nothing is suspended, and the sync token stays where it was.
            quota = error.quota if isinstance(error, CalendarBusy) else error
            self._back_off(record.sync_id, quota)
            report.outcome = f"backing off ({quota.reason})"
            return report
        except (TryLater, GoogleApiError, MeetingServiceError) as error:
            # The sync token stays where it was, so the next signal reads these changes again.
            report.outcome = f"try later ({type(error).__name__})"
            return report
        self.records.save_token(record.sync_id, changes.next_sync_token, by_user=google_token is not None)
        if self.services.offline.available and record.channel_id is None:
            self.channels.open(record.sync_id, token)
        return report

    # The periodic tasks ----------------------------------------------------------------------

    def renew_channels(self, deadline: float) -> int:
        """Replace every push channel that ends soon (and open missing ones); returns how many."""
        return self.channels.renew(deadline, self._suspend)

    def reconcile_all(self, deadline: float) -> int:
        """Sync every calendar in turn, from where the last run stopped (see addon/sync/reconcile.py)."""
        return reconcile_all(self.services, self.records, self.queue, self.sync, deadline)

    def sweep_deletions(self, limit: int = 200, now: datetime | None = None) -> int:
        """Delete the meetings whose events stayed deleted through the grace period; returns how many."""
        return self.deletions.sweep(limit, now)

    def sweep_ghosts(self, limit: int = 100, now: datetime | None = None) -> int:
        """Delete the meetings left without an event whose grace ended (see addon/sync/ghosts.py)."""
        return self.ghosts.sweep(limit, now)

    # Stopping and slowing down ---------------------------------------------------------------

    def _suspend(self, sync_id: str, who: str) -> None:
        if who == "google":
            # The user's next request brings a token that works: use it then, not a minute later.
            with self._lock:
                self._last_user_sync.pop(sync_id.split("/", 1)[0], None)
        self.records.suspend(sync_id, who)

    def _back_off(self, sync_id: str, quota: GoogleQuota) -> None:
        record = self.records.back_off(sync_id, quota)
        if record is not None and record.quota_backoff_until is not None:
            self._sync_after(sync_id, record.quota_backoff_until)

    def _delete_later(self, link_id: str, when: datetime) -> None:
        if not self.queue.delete_later(link_id, when):
            self._local_queue.delete_later(link_id, when)

    def _sync_after(self, sync_id: str, when: datetime) -> None:
        """One sync once the backoff ends, for the changes signalled meanwhile; the reconcile is the backstop."""
        if not self.services.offline.available:
            return  # only the user's next request can read the calendar, and it checks the backoff too
        if not self.queue.sync_later(sync_id, not_before=when):
            self._local_queue.sync_later(sync_id, not_before=when)
