"""The kinds of record the add-on keeps, as plain dataclasses the store adapters persist."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

# How far making an event's meeting got (MeetingLink.state).
LinkState = Literal["creating", "created", "ready"]
# Who refused access and so stopped a calendar's sync: Google, or the meeting service that did.
SuspendedBy = Literal["google", "webex", "zoom"]


@dataclass(frozen=True)
class Record:
    """Base of every stored kind: a key field, and optionally an expiry after which it is gone."""

    KIND: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    @property
    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))

    @property
    def expires_at(self) -> datetime | None:
        return None

    def properties(self) -> dict[str, Any]:
        """The fields to store, the key included."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> Self:
        """Rebuild from stored fields, ignoring ones this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {name: value for name, value in properties.items() if name in known}
        for name, value in values.items():
            if isinstance(value, list):
                values[name] = tuple(value)
        return cls(**values)

    def is_expired(self, now: datetime | None = None) -> bool:
        expires_at = self.expires_at
        return expires_at is not None and expires_at <= (now or datetime.now(UTC))


@dataclass(frozen=True)
class UserSettings(Record):
    """One Google user's meeting defaults, keyed by the verified `sub`."""

    KIND: ClassVar[str] = "UserSettings"
    KEY_FIELD: ClassVar[str] = "user_id"

    user_id: str
    provider: str = "jitsi"
    duration_minutes: int | None = None  # None: not chosen, the domain's or the built-in default applies
    webex_site: str | None = None
    updated_at: datetime | None = None
    waiting_room: bool = False
    # Add a meeting to every event the user opens that has none yet.
    auto_add: bool = False
    # A Webex or Zoom meeting template to create meetings from.
    template_id: str | None = None


@dataclass(frozen=True)
class ProviderGrant(Record):
    """A user's authorization on a meeting service; the tokens are sealed (AES-GCM), never stored in clear."""

    KIND: ClassVar[str] = "ProviderGrant"
    KEY_FIELD: ClassVar[str] = "grant_id"

    grant_id: str  # "<google sub>/<provider>"
    user_id: str
    provider: str
    status: str = "active"  # or "revoked": the service refused it and the user must reconnect
    key_id: str = ""
    sealed_tokens: str = ""
    # Bumped on every token change, so a waiting request can tell that someone else refreshed.
    version: int = 0
    # A refresh in flight somewhere: rotating refresh tokens must never be spent twice.
    refresh_lease: str | None = None
    refresh_lease_until: datetime | None = None
    revoked_reason: str | None = None
    connected_at: datetime | None = None
    updated_at: datetime | None = None

    @staticmethod
    def id_for(user_id: str, provider: str) -> str:
        return f"{user_id}/{provider}"


@dataclass(frozen=True)
class OAuthState(Record):
    """One sign-in to a meeting service in progress: single use, gone after ten minutes."""

    KIND: ClassVar[str] = "OAuthState"
    KEY_FIELD: ClassVar[str] = "state_id"

    state_id: str
    user_id: str
    provider: str
    key_id: str = ""
    sealed_verifier: str = ""
    # SHA-256 of a secret held in the starting browser's cookie.
    browser_hash: str | None = None
    used_by: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class MeetingLink(Record):
    """One meeting for one calendar event (or series): who made it, where it is, and how far creating it got."""

    KIND: ClassVar[str] = "MeetingLink"
    KEY_FIELD: ClassVar[str] = "link_id"

    link_id: str  # "<calendar id>/<event or series id>"
    user_id: str
    provider: str
    user_email: str | None = None
    # "creating": claimed by `claim` at `claimed_at`; "created": the meeting exists but the event does not
    # show it yet; "ready": the event carries the join details.
    state: LinkState = "creating"
    claim: str | None = None
    claimed_at: datetime | None = None
    # A create whose answer was lost: the service may hold a meeting made for this event, so the next
    # attempt looks for it before making one (a first attempt never needs to).
    create_uncertain: bool = False
    meeting_id: str | None = None
    join_url: str | None = None
    calendar_id: str | None = None
    event_id: str | None = None
    html_link: str | None = None
    # What the meeting was made from (title, times, guests), to tell when the event changed since.
    fingerprint: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The guests the meeting was last given, to tell when one was removed.
    invitees: tuple[str, ...] = ()
    # The meeting serves every occurrence of its series with one link and no times of its own.
    no_fixed_time: bool = False
    # The end of the policy's retention: the record is gone after this, even before the purge.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class AuditRecord(Record):
    """Who did what to which meeting, and how it ended; no tokens, no message content."""

    KIND: ClassVar[str] = "AuditRecord"
    KEY_FIELD: ClassVar[str] = "audit_id"

    audit_id: str  # "<user email>/<ISO time>/<random>": listed by user through a key range
    user_email: str
    user_id: str
    action: str  # create | update | delete
    provider: str
    meeting_id: str
    event: str
    outcome: str
    at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class DomainPolicy(Record):
    """An admin's defaults and limits for every user of one domain (python -m addon policy set)."""

    KIND: ClassVar[str] = "DomainPolicy"
    KEY_FIELD: ClassVar[str] = "domain"

    domain: str
    allowed_providers: tuple[str, ...] = ()  # empty: every service this install offers
    default_provider: str | None = None
    duration_minutes: int | None = None
    webex_site: str | None = None
    retention_days: int | None = None
    # Settings users may not change: any of "provider", "duration_minutes", "webex_site".
    locked: tuple[str, ...] = ()
    updated_at: datetime | None = None
    # A duplicated event that carries another event's meeting: "strip" its copied join details, or give it
    # a "new" meeting of its own.
    copied_events: str = "strip"
    # Give a meeting a new passcode when a guest is removed, so their old invitation stops working.
    rotate_passcode_on_removal: bool = False


@dataclass(frozen=True)
class CalendarSync(Record):
    """One calendar of one user that has meetings from the add-on, and how far its changes have been read."""

    KIND: ClassVar[str] = "CalendarSync"
    KEY_FIELD: ClassVar[str] = "sync_id"

    sync_id: str  # "<google sub>/<calendar id>"
    user_id: str
    user_email: str
    calendar_id: str
    sync_token: str | None = None
    synced_at: datetime | None = None
    # Set when Google or the meeting service refused this user's access during a sync: "google" or a
    # provider name. Nothing is changed or deleted while it is set; the user's next card offers a reconnect.
    suspended: SuspendedBy | None = None
    suspended_at: datetime | None = None
    # A sync in progress somewhere holds the lease; a notification meanwhile sets `again`.
    lease_until: datetime | None = None
    again: bool = False
    # The newest push channel (older ones overlap it until they expire or are stopped).
    channel_id: str | None = None
    channel_expires_at: datetime | None = None
    # Google asked us to slow down: no read of this calendar before this time. `quota_strikes` counts the
    # quota answers in a row (each one doubles the wait); a sync that gets through resets both.
    quota_backoff_until: datetime | None = None
    quota_strikes: int = 0

    @staticmethod
    def id_for(user_id: str, calendar_id: str) -> str:
        return f"{user_id}/{calendar_id}"

    def backing_off(self, now: datetime | None = None) -> bool:
        """Whether Google's "slow down" still holds for this calendar."""
        return self.quota_backoff_until is not None and self.quota_backoff_until > (now or datetime.now(UTC))


@dataclass(frozen=True)
class WatchChannel(Record):
    """A Calendar push channel: which calendar sync it wakes, and the hash of the token it must carry."""

    KIND: ClassVar[str] = "WatchChannel"
    KEY_FIELD: ClassVar[str] = "channel_id"

    channel_id: str
    sync_id: str
    resource_id: str
    token_hash: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PendingDeletion(Record):
    """A meeting whose event was deleted: removed on its service after a grace period, unless the event
    turns out to have moved to another calendar or come back (Calendar's Undo)."""

    KIND: ClassVar[str] = "PendingDeletion"
    KEY_FIELD: ClassVar[str] = "link_id"

    link_id: str
    user_id: str
    due_at: datetime


@dataclass(frozen=True)
class PendingCreate(Record):
    """A create that got no answer: the service may hold a meeting for this link that no event shows. After
    `due_at` a sweep looks for it by the link's idempotency key and deletes it, unless a retry took it up."""

    KIND: ClassVar[str] = "PendingCreate"
    KEY_FIELD: ClassVar[str] = "link_id"

    link_id: str
    user_id: str
    user_email: str
    provider: str
    start: datetime  # the meeting's time, where the service is asked for it
    end: datetime
    due_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class TaskCursor(Record):
    """Where a periodic task that pages through all records stopped, so the next run goes on from there."""

    KIND: ClassVar[str] = "TaskCursor"
    KEY_FIELD: ClassVar[str] = "task"

    task: str
    after: str = ""
