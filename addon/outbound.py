"""What every call to an outside service shares: jittered backoff within a budget, and a connection pool per thread."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


P = TypeVar("P", bound=Closable)


def pause_before_retry(
    attempt: int, retries: int, deadline: float, timeout_seconds: float, at_least: float = 0.0
) -> bool:
    """Sleep before attempt `attempt + 1`; False when no attempt, or no time for a whole one, is left."""
    if attempt >= retries:
        return False
    delay = max(at_least, 0.2 * 2**attempt * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
    if time.monotonic() + delay + timeout_seconds > deadline:
        return False
    time.sleep(delay)
    return True


class PerThread(Generic[P]):
    """One connection pool per thread (the HTTP clients are not thread-safe), all closed together at shutdown."""

    def __init__(self, make: Callable[[], P]) -> None:
        self._make = make
        self._local = threading.local()
        self._all: list[P] = []
        self._lock = threading.Lock()

    def get(self) -> P:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._make()
            self._local.pool = pool
            with self._lock:
                self._all.append(pool)
        return pool

    def close(self) -> None:
        """Close every thread's pool (when no call is running)."""
        with self._lock:
            for pool in self._all:
                pool.close()
            self._all.clear()
        self._local = threading.local()
