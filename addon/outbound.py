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
# How a retry waits: time.sleep, unless a test gives one that returns at once.
Sleep = Callable[[float], None]


def pause_before_retry(
    attempt: int,
    retries: int,
    deadline: float,
    timeout_seconds: float,
    at_least: float = 0.0,
    *,
    sleep: Sleep = time.sleep,
) -> bool:
    """Sleep before attempt `attempt + 1`; False when no attempt, or no time for a whole one, is left."""
    delay = retry_delay(attempt, retries, deadline, timeout_seconds, at_least=at_least)
    if delay is None:
        return False
    sleep(delay)
    return True


def retry_delay(
    attempt: int, retries: int, deadline: float, timeout_seconds: float, *, at_least: float = 0.0, base: float = 0.2
) -> float | None:
    """How long to wait before attempt `attempt + 1`; None when no attempt, or no time for a whole one, is left."""
    if attempt >= retries:
        return None
    delay = max(at_least, base * 2**attempt * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
    if time.monotonic() + delay + timeout_seconds > deadline:
        return None
    return delay


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """The wait after the `attempt`-th repeat (from 0): doubling from `base` up to `cap`, its second half jitter,
    so waits spread out yet never shrink from one repeat to the next."""
    span = min(cap, base * 2**attempt)
    return span / 2 + random.random() * span / 2  # noqa: S311 - jitter, not a secret


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
