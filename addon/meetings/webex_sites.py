"""Each user's default Webex site, remembered for a while: reading it is a call of its own before a create."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

TTL_SECONDS = 3600.0
MOST_USERS = 10_000


class DefaultSites:
    """Shared by every thread of a process; an entry lasts `ttl_seconds`, the least recently used go first."""

    def __init__(
        self,
        ttl_seconds: float = TTL_SECONDS,
        most_users: int = MOST_USERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.most_users = most_users
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._forgets = 0
        self._lock = threading.Lock()

    def site(self, user_id: str, read: Callable[[], str | None]) -> tuple[str | None, bool]:
        """The user's site, and whether `read` was asked just now; a failed read is not remembered."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is not None and entry[0] > self._clock():
                self._entries.move_to_end(user_id)
                return entry[1], False
            forgets = self._forgets
        site = read()  # outside the lock: one user's slow answer must not hold up the others
        with self._lock:
            # A forget while reading (a revoked grant, say) may concern this very answer: keep nothing.
            if forgets == self._forgets:
                self._entries[user_id] = (self._clock() + self.ttl_seconds, site)
                self._entries.move_to_end(user_id)
                while len(self._entries) > self.most_users:
                    self._entries.popitem(last=False)
        return site, True

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._entries.pop(user_id, None)
            self._forgets += 1
