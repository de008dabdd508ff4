"""What the store holds for one user as a request begins: read in one lookup, then served from memory."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from addon.store import MeetingLink, ProviderGrant, Record, Store, UserSettings


class UserState:
    """The user's settings, their grants on account-based services and the open event's meeting link.

    One store round trip on first use, instead of one per record and per use. What the request itself
    writes is noted here (`settings_saved`, `grant_dropped`, `link_seen`), so what it shows afterwards is
    what it wrote, without reading it back."""

    def __init__(self, store: Store, user_id: str, services: Sequence[str], link_keys: Sequence[str] = ()) -> None:
        self.store = store
        self.user_id = user_id
        self.services = tuple(services)
        self.link_keys = tuple(link_keys)
        self._lock = threading.Lock()
        self._loaded = False
        self._settings: UserSettings | None = None
        self._grants: dict[str, ProviderGrant | None] = {}
        self._links: dict[str, MeetingLink | None] = {}

    @property
    def settings(self) -> UserSettings | None:
        self._load()
        return self._settings

    def grant(self, service: str) -> ProviderGrant | None:
        """The stored grant (None: never connected), for a service read ahead; KeyError for any other."""
        self._load()
        return self._grants[service]

    def has_link(self, key: str) -> bool:
        """Whether the link under `key` is known here (read ahead, or written by this request)."""
        return key in self.link_keys or key in self._links

    def link(self, key: str) -> MeetingLink | None:
        self._load()
        return self._links[key]

    def settings_saved(self, settings: UserSettings) -> None:
        self._load()
        self._settings = settings

    def grant_dropped(self, service: str) -> None:
        self._load()
        self._grants[service] = None

    def link_seen(self, key: str, link: MeetingLink | None) -> None:
        """The link as this request last wrote or read it (None: it has none now)."""
        self._load()
        self._links[key] = link

    def link_changed(self, key: str) -> None:
        """Something else wrote the link meanwhile: the next use reads it from the store."""
        self._load()
        self._links.pop(key, None)
        self.link_keys = tuple(k for k in self.link_keys if k != key)

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            wanted: list[tuple[type[Record], str]] = [(UserSettings, self.user_id)]
            wanted += [(ProviderGrant, ProviderGrant.id_for(self.user_id, s)) for s in self.services]
            wanted += [(MeetingLink, key) for key in self.link_keys]
            found = iter(self.store.get_many(wanted))
            settings = next(found)
            self._settings = settings if isinstance(settings, UserSettings) else None
            for service in self.services:
                grant = next(found)
                self._grants[service] = grant if isinstance(grant, ProviderGrant) else None
            for key in self.link_keys:
                link = next(found)
                self._links.setdefault(key, link if isinstance(link, MeetingLink) else None)
            self._loaded = True
