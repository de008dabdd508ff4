"""Whether the store answers: the error for one that does not, and the breaker that stops asking it for a while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# One store call (its tries and the pauses between them) ends within this; the sidebar is waiting on it.
CALL_BUDGET_SECONDS = 3.0
# After this many calls in a row found the store not answering, calls fail at once for OPEN_SECONDS;
# then one call goes through to see whether it is back.
FAILURES_TO_OPEN = 3
OPEN_SECONDS = 5.0
# Readiness trusts a call that answered this recently, and reads the store itself at most this often.
READY_FRESH_SECONDS = 10.0
# Retry-After of a 503 for a caller that retries on its own (Calendar's push, Cloud Tasks, a readiness check).
RETRY_AFTER_SECONDS = 30


class StoreUnavailable(Exception):
    """The store did not answer within its budget (down, unreachable or overloaded), or was not asked: the
    breaker is open. Nothing about the request itself was wrong; the same request may work a minute later."""


class CircuitBreaker:
    """Thread-safe: closed while the store answers; open (failing calls at once) after it stopped answering.

    An adapter calls `check` before each call, then `succeeded`, `failed` or `settled`. Calls that find the
    breaker closed take no lock."""

    def __init__(
        self,
        *,
        failures_to_open: int = FAILURES_TO_OPEN,
        open_seconds: float = OPEN_SECONDS,
        ready_fresh_seconds: float = READY_FRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures_to_open
        self.open_seconds = open_seconds
        self.ready_fresh_seconds = ready_fresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._answered_at = -float("inf")
        self._ready_checked_at = -float("inf")
        self._ready = True

    def check(self) -> None:
        """Raise StoreUnavailable while open; once OPEN_SECONDS have passed, let one call through as a probe."""
        if self._opened_at is None:
            return
        with self._lock:
            if self._opened_at is None:
                return
            if self._probing or self._clock() - self._opened_at < self.open_seconds:
                raise StoreUnavailable("the store stopped answering; it is asked again in a few seconds")
            self._probing = True

    def succeeded(self) -> None:
        """The store answered (an error it answered with included)."""
        self._answered_at = self._clock()
        if self._failures or self._opened_at is not None:
            with self._lock:
                self._failures = 0
                self._opened_at = None
                self._probing = False

    def settled(self) -> None:
        """The call ended without showing whether the store answers (the caller's own code failed)."""
        if self._probing:
            with self._lock:
                self._probing = False

    def failed(self) -> None:
        """The store did not answer within the call's budget."""
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.failures_to_open:
                self._opened_at = self._clock()
            self._probing = False

    def ready(self, probe: Callable[[], object]) -> bool:
        """Whether the store answers: no while open; yes after a recent answer; else `probe()`, a cheap call
        through this breaker, run at most every READY_FRESH_SECONDS (in between, its last outcome)."""
        with self._lock:
            now = self._clock()
            if self._opened_at is not None:
                if self._probing or now - self._opened_at < self.open_seconds:
                    return False
                # Time for the breaker's probe: this one.
            elif now - self._answered_at < self.ready_fresh_seconds:
                return True
            elif now - self._ready_checked_at < self.ready_fresh_seconds:
                return self._ready
            self._ready_checked_at = now
        try:
            probe()
            answered = True
        except StoreUnavailable:
            answered = False
        with self._lock:
            self._ready = answered
        return answered
