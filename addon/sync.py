"""Keeping meetings in step with their events: read each calendar's changes and apply them to the meetings.

Signals that a calendar changed: Calendar push notifications (web/hooks), the user saving an event with the
add-on open, any request that brings the user's token, and the periodic reconcile (web/tasks). Each only
says "look"; what changed is read here with the calendar's sync token, so a lost, repeated or late
signal costs nothing but a list call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addon.google.calendar import (
    CalendarEvent,
    SyncTokenExpired,
    changed_events,
    patch_event,
    read_event,
    stop_channel,
    watch_events,
)
from addon.google.client import (
    GoogleApiError,
    GoogleQuota,
    GoogleUnauthorized,
    GoogleUnavailable,
    GoogleUsageLimitReached,
    background_calls,
)
from addon.join_details import EVENT_PROPERTY, MEETING_PROPERTY
from addon.meetings.catalog import display_name
from addon.meetings.model import (
    GrantRevoked,
    Meeting,
    MeetingGone,
    MeetingRejected,
    MeetingServiceError,
    NotConnected,
    Provider,
)
from addon.outbound import backoff_seconds
from addon.policy import EffectiveSettings, effective_settings
from addon.scheduling import (
    Actor,
    CalendarBusy,
    Scheduler,
    SchedulingError,
    details_taken_off,
    event_key,
    fingerprint,
    guests,
)
from addon.services import Services
from addon.store import CalendarSync, MeetingLink, PendingDeletion, TaskCursor, UserSettings, WatchChannel
from cards.i18n import Text

log = logging.getLogger(__name__)

# A full read (first sync, or after Calendar dropped the sync token) starts this far back: meetings of
# events that ended before then are over, and their links expire with the retention period.
FULL_SYNC_DAYS = 30
# Longer than one sync of a calendar can take; a sync that died frees the calendar after this.
LEASE_SECONDS = 120
# A signal that arrives while a calendar is being synced makes the syncer read it again, this often at most.
MAX_ROUNDS = 3
CHANNEL_TTL_SECONDS = 7 * 24 * 3600
# Channels cannot be renewed, only replaced: a new one starts this long before the old one ends.
RENEW_BEFORE = timedelta(days=2)
# A user's own requests start a sync of their calendars at most this often (when no service account can).
USER_SYNC_INTERVAL_SECONDS = 60.0
HOOK_PATH = "/hooks/calendar"
# The calendars of one user that a request looks at (a user schedules on a handful).
USER_CALENDARS = 20
RECONCILE_CURSOR = "reconcile"
# Google asked us to slow down: the calendar is not read again for up to this long, twice as long on each
# repeat, up to the cap. A daily or usage limit refills over hours, so it waits hours.
QUOTA_BACKOFF_SECONDS = 30.0
QUOTA_BACKOFF_CAP_SECONDS = 3600.0
USAGE_LIMIT_BACKOFF_SECONDS = 3600.0
USAGE_LIMIT_BACKOFF_CAP_SECONDS = 6 * 3600.0


class Suspended(Exception):
    """Google or the meeting service refused the user's access: stop, change nothing, tell the user."""

    def __init__(self, who: str) -> None:
        super().__init__(who)
        self.who = who


class TryLater(Exception):
    """An outside service failed for now; the changes are read again on the next signal."""


@dataclass
class SyncReport:
    """What one sync of one calendar did, for logs and tests."""

    events: int = 0
    updated: int = 0
    deleted: int = 0
    moved: int = 0
    copies: int = 0
    occurrences: int = 0
    full: bool = False
    outcome: str = "ok"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class CalendarSyncer:
    """Applies calendar changes to meetings, for every user and calendar the add-on made meetings on."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.user_sync_interval_seconds = USER_SYNC_INTERVAL_SECONDS
        self.quota_backoff_seconds = QUOTA_BACKOFF_SECONDS
        self._last_user_sync: dict[str, float] = {}
        self._lock = threading.Lock()

    # Which calendars -------------------------------------------------------------------------

    def track(self, user_id: str, email: str, calendar_id: str, google_token: str | None) -> None:
        """Keep this user's calendar in step from now on (called when a meeting is put on it)."""
        sync_id = CalendarSync.id_for(user_id, calendar_id)

        def add(current: CalendarSync | None) -> CalendarSync | None:
            if current is not None:
                return None
            return CalendarSync(sync_id=sync_id, user_id=user_id, user_email=email.lower(), calendar_id=calendar_id)

        record = self.services.store.update(CalendarSync, sync_id, add)
        if record is not None and record.sync_token is None:
            # The first full read gives the sync token; with a service account it also opens a push channel.
            self.submit(sync_id, google_token)

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
        for record in self._calendars_of(user_id):
            if not offline or record.suspended == "google":
                self.submit(record.sync_id, google_token)

    def status(self, stopped: list[CalendarSync]) -> Text:
        """One line for the user's cards: how their meetings follow Calendar, and what to do if they do not.

        `stopped` is what `suspensions` found for the user."""
        if stopped:
            who = stopped[0].suspended or "google"
            if who == "google":
                return Text(
                    "Paused: Google refused background access to your calendar. Changes reach your meetings "
                    "when you open the add-on; ask your administrator about domain-wide delegation."
                )
            return Text(
                "Paused: {service} refused access. Reconnect {service} in Settings and your meetings catch up.",
                service=display_name(who),
            )
        if self.services.offline.available:
            return Text("Automatic: changes in Calendar reach the meeting within a minute.")
        return Text("Limited: changes in Calendar reach the meeting when you next open the add-on.")

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
            self._apply(record, event, google_token, report)
        except Suspended as stop:
            self._suspend(record.sync_id, stop.who)
            return False
        except (TryLater, GoogleQuota, CalendarBusy):
            return False  # the calendar's next sync reads this change again
        return bool(report.updated or report.occurrences)

    def suspensions(self, user_id: str) -> list[CalendarSync]:
        """The user's calendars whose sync stopped on a refused access, for the card to explain."""
        return [r for r in self._calendars_of(user_id) if r.suspended]

    def resume(self, user_id: str, who: str, google_token: str | None = None) -> None:
        """The user reconnected `who` ("google" or a provider): lift that suspension and catch up."""
        for record in self._calendars_of(user_id):
            if record.suspended != who:
                continue
            self.services.store.update(
                CalendarSync,
                record.sync_id,
                lambda current: dataclasses.replace(current, suspended=None, suspended_at=None) if current else None,
            )
            self.submit(record.sync_id, google_token)

    def _calendars_of(self, user_id: str) -> list[CalendarSync]:
        return self.services.store.with_prefix(CalendarSync, user_id + "/", limit=USER_CALENDARS)

    def submit(self, sync_id: str, google_token: str | None = None) -> None:
        """Sync the calendar soon: on Cloud Tasks where configured (never with a user's token), else here."""
        queue = self.services.cloud_tasks
        if google_token is None and queue is not None and queue.sync_later(sync_id):
            return
        self.services.tasks.submit("sync:" + sync_id, lambda: self.sync(sync_id, google_token))

    # One calendar ----------------------------------------------------------------------------

    def sync(self, sync_id: str, google_token: str | None = None) -> SyncReport | None:
        """Read the calendar's changes since the last sync and apply them; None if another sync has it."""
        record = self._take_lease(sync_id)
        if record is None:
            return None  # the holder was told to read once more
        report = SyncReport()
        try:
            with background_calls():
                for _ in range(MAX_ROUNDS):
                    report = self._sync_once(record, google_token)
                    fresh, again = self._clear_again(sync_id)
                    if fresh is None or not again:
                        break
                    record = fresh
        finally:
            self._release(sync_id)
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
            try:
                changes = changed_events(
                    self.services.google, token, record.calendar_id, record.sync_token, self._window_start()
                )
            except SyncTokenExpired:
                log.info("Calendar dropped a sync token; reading the calendar in full")
                changes = changed_events(self.services.google, token, record.calendar_id, None, self._window_start())
            report.full = changes.full
            for event in changes.events:
                report.events += 1
                self._apply(record, event, token, report)
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
        self._save_token(record.sync_id, changes.next_sync_token, google_token is not None)
        if self.services.offline.available and record.channel_id is None:
            self.open_channel(record.sync_id, token)
        return report

    def _apply(self, record: CalendarSync, event: CalendarEvent, token: str, report: SyncReport) -> None:
        if event.recurring_event_id:
            self._occurrence(record, event, report)
            return
        key = event_key(record.calendar_id, event.event_id)
        link = self.services.store.get(MeetingLink, key)
        mine = link is not None and link.user_id == record.user_id and link.state == "ready"
        if event.cancelled:
            if link is not None and mine:
                self._event_deleted(link, report)
            return
        if link is not None:
            if mine:
                self._follow(record, link, event, token, report)
            return
        origin = event.private_properties.get(EVENT_PROPERTY)
        if origin and origin != key and event.private_properties.get(MEETING_PROPERTY):
            self._carries_other_meeting(record, origin, key, event, token, report)

    # What a change means ---------------------------------------------------------------------

    def _follow(
        self, record: CalendarSync, link: MeetingLink, event: CalendarEvent, token: str, report: SyncReport
    ) -> None:
        """The event's title, time or guests changed: the meeting follows."""
        if link.fingerprint == fingerprint(event) and link.invitees == guests(event):
            return
        if event.start is None or event.end is None or event.all_day or event.end <= event.start:
            log.info("event has no meeting time any more; its meeting keeps the last one")
            return
        scheduler = self._scheduler(record, token, link.provider, event)
        try:
            scheduler.follow_event(link, event, rotate=self._rotates(record))
        except (NotConnected, GrantRevoked) as error:
            raise Suspended(link.provider) from error
        except MeetingGone:
            self._meeting_gone(scheduler, link, event)
        except MeetingRejected as error:
            # The service will not take this change (say, a length it does not allow); the audit says so.
            scheduler.audit_success("update", link, f"not followed; the service said: {error.message}")
        except GoogleUnavailable as error:
            raise TryLater("Calendar") from error
        else:
            report.updated += 1

    def _event_deleted(self, link: MeetingLink, report: SyncReport) -> None:
        grace = self.services.settings.sync_delete_grace_seconds
        if grace <= 0:
            self.delete_meeting(link, "event deleted in Calendar")
        else:
            due = datetime.now(UTC) + timedelta(seconds=grace)
            self.services.store.put(PendingDeletion(link_id=link.link_id, user_id=link.user_id, due_at=due))
        report.deleted += 1

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
        self._take_details_off(
            event, token, source.join_url if source else None, event.private_properties[MEETING_PROPERTY]
        )
        report.copies += 1
        policy = self.services.policies.for_email(record.user_email)
        if policy is not None and policy.copied_events == "new":
            fresh = read_event(self.services.google, token, record.calendar_id, event.event_id)
            scheduler = self._scheduler(record, token, source.provider if source else None, fresh)
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
        scheduler = self._scheduler(record, token, source.provider, event)
        scheduler.audit_success("update", moved, f"moved with its event from {source.calendar_id}")
        self._follow(record, moved, event, token, SyncReport())

    def _meeting_gone(self, scheduler: Scheduler, link: MeetingLink, event: CalendarEvent) -> None:
        """Someone deleted the meeting on the service itself: the event stops advertising a dead link."""
        self._take_details_off(event, scheduler.actor.google_token, link.join_url, link.meeting_id)
        self.services.store.delete(MeetingLink, link.link_id)
        scheduler.audit_success("delete", link, "deleted on the service; details taken off the event")

    def _take_details_off(self, event: CalendarEvent, token: str, join_url: str | None, meeting_id: str | None) -> None:
        fields = details_taken_off(event, join_url, meeting_id)
        patch_event(self.services.google, token, event.calendar_id, event.event_id, fields, "all")

    def _occurrence(self, record: CalendarSync, event: CalendarEvent, report: SyncReport) -> None:
        """One occurrence of a series was moved, retitled or cancelled: only that occurrence changes."""
        assert event.recurring_event_id is not None
        link = self.services.store.get(MeetingLink, event_key(record.calendar_id, event.recurring_event_id))
        if link is None or link.user_id != record.user_id or link.state != "ready" or not link.meeting_id:
            return
        if event.original_start is None:
            return
        provider = self._provider(link)
        if not provider.series_occurrences:
            return  # one room for every occurrence: nothing on the service to change
        scheduler = self._scheduler(record, "", link.provider, event)
        try:
            if event.cancelled:
                provider.cancel_occurrence(link.meeting_id, event.original_start)
                outcome = "occurrence cancelled in Calendar"
            else:
                if event.start is None or event.end is None or event.all_day or event.end <= event.start:
                    return
                provider.update_occurrence(link.meeting_id, event.original_start, scheduler.spec_for(event))
                outcome = "occurrence changed in Calendar"
        except (NotConnected, GrantRevoked) as error:
            raise Suspended(link.provider) from error
        except (MeetingGone, MeetingRejected) as error:
            log.info("occurrence not changed on the service: %s", type(error).__name__)
            return
        scheduler.audit_success("update", link, outcome)
        report.occurrences += 1

    # Deleting meetings -----------------------------------------------------------------------

    def delete_meeting(self, link: MeetingLink, outcome: str) -> None:
        """The event is gone: delete its meeting on the service (an auth error deletes nothing, and suspends)."""
        if link.meeting_id:
            try:
                self._provider(link).delete(link.meeting_id)
            except (NotConnected, GrantRevoked) as error:
                raise Suspended(link.provider) from error
            except MeetingServiceError as error:
                raise TryLater(link.provider) from error
            gone = Meeting(provider=link.provider, meeting_id=link.meeting_id, join_url=link.join_url or "")
            self._audit_for(link).audit("delete", link.link_id, gone, outcome)
        self.services.store.delete(MeetingLink, link.link_id)
        self.services.store.delete(PendingDeletion, link.link_id)

    def sweep_deletions(self, limit: int = 200, now: datetime | None = None) -> int:
        """Delete the meetings whose events stayed deleted through the grace period; returns how many."""
        with background_calls():
            return self._sweep_deletions(limit, now or datetime.now(UTC))

    def _sweep_deletions(self, limit: int, now: datetime) -> int:
        done = 0
        for pending in self.services.store.with_prefix(PendingDeletion, "", limit=limit):
            if pending.due_at > now:
                continue
            link = self.services.store.get(MeetingLink, pending.link_id)
            if link is None:  # moved with its event, or removed meanwhile
                self.services.store.delete(PendingDeletion, pending.link_id)
                continue
            if self._event_is_back(link):
                self.services.store.delete(PendingDeletion, pending.link_id)
                continue
            try:
                self.delete_meeting(link, "event deleted in Calendar")
            except Suspended as stop:
                self._suspend(CalendarSync.id_for(link.user_id, link.calendar_id or ""), stop.who)
                continue
            except TryLater:
                continue
            done += 1
        return done

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

    # Push channels ---------------------------------------------------------------------------

    def open_channel(self, sync_id: str, token: str) -> None:
        """A new push channel for the calendar; the one it replaces is stopped once the new one is live."""
        record = self.services.store.get(CalendarSync, sync_id)
        if record is None:
            return
        secret = secrets.token_urlsafe(32)
        channel_id = secrets.token_hex(16)
        address = self.services.settings.base_url + HOOK_PATH
        try:
            channel = watch_events(
                self.services.google, token, record.calendar_id, channel_id, address, secret, CHANNEL_TTL_SECONDS
            )
        except GoogleQuota as quota:
            self._back_off(sync_id, quota)  # a later sync or renewal, after the backoff, opens it
            return
        except GoogleApiError as error:
            log.warning("Calendar refused a push channel: %s", type(error).__name__)
            return
        self.services.store.put(
            WatchChannel(
                channel_id=channel.channel_id,
                sync_id=sync_id,
                resource_id=channel.resource_id,
                token_hash=token_hash(secret),
                expires_at=channel.expires_at,
            )
        )
        previous = record.channel_id

        def point(current: CalendarSync | None) -> CalendarSync | None:
            if current is None:
                return None
            return dataclasses.replace(current, channel_id=channel.channel_id, channel_expires_at=channel.expires_at)

        self.services.store.update(CalendarSync, sync_id, point)
        if previous:
            old = self.services.store.get(WatchChannel, previous)
            if old is not None:
                try:
                    stop_channel(self.services.google, token, old.channel_id, old.resource_id)
                except GoogleApiError as error:
                    log.info("old push channel not stopped (%s); it ends on its own", type(error).__name__)
                self.services.store.delete(WatchChannel, previous)

    def renew_channels(self, deadline: float) -> int:
        """Replace every channel that ends within RENEW_BEFORE (and open missing ones); returns how many."""
        if not self.services.offline.available:
            return 0
        with background_calls():
            return self._renew_channels(deadline)

    def _renew_channels(self, deadline: float) -> int:
        renewed = 0
        soon = datetime.now(UTC) + RENEW_BEFORE
        for record in self.all_calendars():
            if time.monotonic() >= deadline:
                break  # the next run (every few hours, days before any channel ends) carries on
            if record.suspended or (record.channel_expires_at is not None and record.channel_expires_at > soon):
                continue
            if record.backing_off():
                continue  # its next sync, after the backoff, opens a channel if it has none
            try:
                token = self.services.offline.token_for(record.user_email)
            except GoogleUnauthorized:
                self._suspend(record.sync_id, "google")
                continue
            except GoogleApiError:
                continue
            self.open_channel(record.sync_id, token)
            renewed += 1
        return renewed

    def reconcile_all(self, deadline: float) -> int:
        """The backstop for lost notifications: sync every calendar the service account may read.

        Calendars are queued on Cloud Tasks where configured, else synced here. A run that reaches its
        deadline leaves a cursor, and the next run goes on from there, so every calendar gets its turn.
        """
        if not self.services.offline.available:
            return 0
        queue = self.services.cloud_tasks
        cursor = self.services.store.get(TaskCursor, RECONCILE_CURSOR)
        start = cursor.after if cursor else ""
        synced, last, finished = 0, start, True
        for record in self.all_calendars(after=start):
            if time.monotonic() >= deadline:
                finished = False
                break
            # A calendar in backoff has its own sync waiting for the backoff's end (or the next run).
            if not record.suspended and not record.backing_off():
                queued = queue is not None and queue.sync_later(record.sync_id)
                if queued or self.sync(record.sync_id) is not None:
                    synced += 1
            last = record.sync_id
        self.services.store.put(TaskCursor(task=RECONCILE_CURSOR, after="" if finished else last))
        return synced

    def all_calendars(self, after: str = "", page: int = 100) -> Iterator[CalendarSync]:
        """Every calendar being kept in step (whose key sorts after `after`), a page at a time."""
        while True:
            records = self.services.store.with_prefix(CalendarSync, "", limit=page, after=after)
            yield from records
            if len(records) < page:
                return
            after = records[-1].sync_id

    # Helpers ---------------------------------------------------------------------------------

    def _defaults(self, user_id: str, email: str) -> EffectiveSettings:
        stored = self.services.store.get(UserSettings, user_id)
        policy = self.services.policies.for_email(email)
        return effective_settings(user_id, stored, policy, self.services.meetings.offered)

    def _scheduler(self, record: CalendarSync, token: str, provider: str | None, event: CalendarEvent) -> Scheduler:
        defaults = self._defaults(record.user_id, record.user_email)
        actor = Actor(record.user_id, record.user_email, token, _zone(event.time_zone))
        return Scheduler(
            self.services,
            actor,
            provider or defaults.provider,
            defaults.webex_site,
            waiting_room=defaults.waiting_room,
            template_id=defaults.template_id,
            retention_days=defaults.retention_days,
        )

    def _audit_for(self, link: MeetingLink) -> Scheduler:
        actor = Actor(link.user_id, link.user_email or "", "", ZoneInfo("UTC"))
        return Scheduler(self.services, actor, link.provider)

    def _provider(self, link: MeetingLink) -> Provider:
        site = self._defaults(link.user_id, link.user_email or "").webex_site
        return self.services.meetings.provider(link.user_id, link.provider, site)

    def _rotates(self, record: CalendarSync) -> bool:
        policy = self.services.policies.for_email(record.user_email)
        return bool(policy and policy.rotate_passcode_on_removal)

    def _window_start(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=FULL_SYNC_DAYS)

    def _take_lease(self, sync_id: str) -> CalendarSync | None:
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

        record = self.services.store.update(CalendarSync, sync_id, take)
        return record if taken else None

    def _clear_again(self, sync_id: str) -> tuple[CalendarSync | None, bool]:
        """Whether a signal came in during the sync (then the calendar is read once more)."""
        seen: list[bool] = []

        def clear(current: CalendarSync | None) -> CalendarSync | None:
            seen.clear()
            if current is None or not current.again:
                return None
            seen.append(True)
            return dataclasses.replace(current, again=False)

        return self.services.store.update(CalendarSync, sync_id, clear), bool(seen)

    def _release(self, sync_id: str) -> None:
        def release(current: CalendarSync | None) -> CalendarSync | None:
            return dataclasses.replace(current, lease_until=None) if current else None

        self.services.store.update(CalendarSync, sync_id, release)

    def _save_token(self, sync_id: str, token: str, by_user: bool) -> None:
        now = datetime.now(UTC)

        def save(current: CalendarSync | None) -> CalendarSync | None:
            if current is None:
                return None
            # A sync that worked with the user's own token shows Google lets us in again.
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

        self.services.store.update(CalendarSync, sync_id, save)

    def _back_off(self, sync_id: str, quota: GoogleQuota) -> None:
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
            until = now + timedelta(seconds=wait)
            return dataclasses.replace(current, quota_strikes=strikes, quota_backoff_until=until)

        record = self.services.store.update(CalendarSync, sync_id, back_off)
        if record is not None and record.quota_backoff_until is not None:
            log.info("calendar sync backs off after %d quota answers in a row", record.quota_strikes)
            self._sync_after(sync_id, record.quota_backoff_until)

    def _sync_after(self, sync_id: str, when: datetime) -> None:
        """One sync once the backoff ends, for the changes signalled meanwhile; the reconcile is the backstop."""
        if not self.services.offline.available:
            return  # only the user's next request can read the calendar, and it checks the backoff too
        queue = self.services.cloud_tasks
        if queue is not None and queue.sync_later(sync_id, not_before=when):
            return
        delay = (when - datetime.now(UTC)).total_seconds()
        self.services.tasks.submit_later("sync:" + sync_id, delay, lambda: self.sync(sync_id))

    def _suspend(self, sync_id: str, who: str) -> None:
        log.warning("calendar sync suspended: %s refused access", who)
        now = datetime.now(UTC)
        if who == "google":
            # The user's next request brings a token that works: use it then, not a minute later.
            with self._lock:
                self._last_user_sync.pop(sync_id.split("/", 1)[0], None)

        def suspend(current: CalendarSync | None) -> CalendarSync | None:
            if current is None:
                return None
            return dataclasses.replace(current, suspended=who, suspended_at=now)

        self.services.store.update(CalendarSync, sync_id, suspend)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
