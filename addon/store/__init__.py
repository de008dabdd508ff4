"""Where the add-on keeps its records: the Store protocol and the adapter chosen by ADDON_STORE."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from addon.store.availability import StoreUnavailable
from addon.store.records import (
    AuditRecord,
    CalendarSync,
    DomainPolicy,
    MeetingLink,
    OAuthState,
    PendingCreate,
    PendingDeletion,
    ProviderGrant,
    Record,
    TaskCursor,
    UserSettings,
    WatchChannel,
)

__all__ = [
    "AuditRecord",
    "CalendarSync",
    "DomainPolicy",
    "MeetingLink",
    "OAuthState",
    "PendingCreate",
    "PendingDeletion",
    "ProviderGrant",
    "Record",
    "Store",
    "StoreUnavailable",
    "TaskCursor",
    "UserSettings",
    "WatchChannel",
    "open_store",
]

R = TypeVar("R", bound=Record)


class Store(Protocol):
    """Records by kind and key. Expired records are never returned, even before they are purged.

    Every call answers within the store's budget or raises StoreUnavailable (availability.py)."""

    def get(self, kind: type[R], key: str) -> R | None:
        """The record, or None if it is absent or expired."""

    def get_many(self, wanted: Sequence[tuple[type[Record], str]]) -> list[Record | None]:
        """The records (or None) for several kinds and keys, in the order asked, in one round trip."""

    def put(self, record: Record) -> None:
        """Create or replace the record."""

    def delete(self, kind: type[Record], key: str) -> None:
        """Remove the record; removing an absent one is not an error."""

    def update(self, kind: type[R], key: str, change: Callable[[R | None], R | None]) -> R | None:
        """Atomically read, change and write one record; `change` may run again on contention.

        Returning None from `change` leaves the record as it is. Returns what is stored afterwards.
        """

    def with_prefix(self, kind: type[R], prefix: str, limit: int = 100, after: str = "") -> list[R]:
        """Unexpired records whose key starts with `prefix` (and sorts after `after`), in key order.

        Uses only the key index. Page on with `after` set to the last key of the previous page.
        """

    def purge_expired(self, kind: type[Record], limit: int = 500) -> int:
        """Delete up to `limit` records whose expiry has passed; return how many were deleted."""

    def ready(self) -> bool:
        """Whether the store answers now; reads it at most every few seconds, and not while its calls show it."""

    def close(self) -> None:
        """Release connections."""


def open_store(url: str, namespace: str | None = None) -> Store:
    """The adapter for an ADDON_STORE value: `datastore` or `sqlite:///PATH`."""
    if url == "datastore":
        from addon.store.datastore import DatastoreStore

        return DatastoreStore(namespace=namespace)
    if url.startswith("sqlite:///"):
        from addon.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    raise ValueError(f"unknown store {url!r}")
