"""Calendar push channels: one per calendar kept in step, each with a secret of its own, replaced before it ends."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from addon.google.calendar import stop_channel, watch_events
from addon.google.client import GoogleApiError, GoogleQuota, GoogleUnauthorized, background_calls
from addon.services import Services
from addon.store import CalendarSync, WatchChannel
from addon.sync.records import SyncRecords

log = logging.getLogger(__name__)

HOOK_PATH = "/hooks/calendar"
CHANNEL_TTL_SECONDS = 7 * 24 * 3600
# Channels cannot be renewed, only replaced: a new one starts this long before the old one ends.
RENEW_BEFORE = timedelta(days=2)


def token_hash(secret: str) -> str:
    """What is stored of a channel's secret: Calendar sends the secret with each notification."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Channels:
    """Opens, replaces and stops the push channels that make Calendar tell /hooks/calendar about changes."""

    def __init__(self, services: Services, records: SyncRecords, back_off: Callable[[str, GoogleQuota], None]) -> None:
        self.services = services
        self.records = records
        self.back_off = back_off  # (sync_id, quota answer): a later sync or renewal opens the channel

    def open(self, sync_id: str, token: str) -> None:
        """A new push channel for the calendar; the one it replaces is stopped once the new one is live."""
        record = self.records.get(sync_id)
        if record is None:
            return
        secret = secrets.token_urlsafe(32)
        channel_id = secrets.token_hex(16)
        address = self.services.settings.base_url + HOOK_PATH
        try:
            channel = watch_events(
                self.services.google,
                token,
                record.calendar_id,
                channel_id=channel_id,
                address=address,
                secret=secret,
                ttl_seconds=CHANNEL_TTL_SECONDS,
            )
        except GoogleQuota as quota:
            self.back_off(sync_id, quota)
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

        def point(current: CalendarSync | None) -> CalendarSync | None:
            if current is None:
                return None
            return dataclasses.replace(current, channel_id=channel.channel_id, channel_expires_at=channel.expires_at)

        self.services.store.update(CalendarSync, sync_id, point)
        if record.channel_id:
            self._stop(record.channel_id, token)

    def renew(self, deadline: float, suspend: Callable[[str, str], None]) -> int:
        """Replace every channel that ends within RENEW_BEFORE (and open missing ones); returns how many."""
        if not self.services.offline.available:
            return 0
        with background_calls():
            renewed = 0
            soon = datetime.now(UTC) + RENEW_BEFORE
            for record in self.records.every():
                if time.monotonic() >= deadline:
                    break  # the next run (every few hours, days before any channel ends) carries on
                if record.suspended or (record.channel_expires_at is not None and record.channel_expires_at > soon):
                    continue
                if record.backing_off():
                    continue  # its next sync, after the backoff, opens a channel if it has none
                try:
                    token = self.services.offline.token_for(record.user_email)
                except GoogleUnauthorized:
                    suspend(record.sync_id, "google")
                    continue
                except GoogleApiError:
                    continue
                self.open(record.sync_id, token)
                renewed += 1
            return renewed

    def _stop(self, channel_id: str, token: str) -> None:
        old = self.services.store.get(WatchChannel, channel_id)
        if old is None:
            return
        try:
            stop_channel(self.services.google, token, old.channel_id, old.resource_id)
        except GoogleApiError as error:
            log.info("old push channel not stopped (%s); it ends on its own", type(error).__name__)
        self.services.store.delete(WatchChannel, channel_id)
