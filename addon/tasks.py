"""Work that follows a request: run on this process's own worker threads, once per key at a time.

A notification is answered at once and its calendar synced here afterwards. Work lost with a process (a
restart, a scaled-down instance) is not lost for good: the periodic reconcile (cron) repeats it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

WORKERS = 2


class LocalTasks:
    """A small in-process queue; a key already waiting is not queued twice, one running is run once more."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._work: dict[str, Callable[[], None]] = {}
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._idle = threading.Condition()
        self._threads = [threading.Thread(target=self._serve, name=f"tasks-{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, key: str, work: Callable[[], None]) -> None:
        with self._idle:
            if key in self._running:
                self._again.add(key)  # it may have read the calendar before this change
                self._work[key] = work
                return
            if key in self._work:
                return
            self._work[key] = work
        self._queue.put(key)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running (tests, shutdown); False if that took longer than `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._work and not self._running, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is running (the store closes after this), drop what is still queued."""
        with self._idle:
            self._work.clear()
            self._again.clear()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _serve(self) -> None:
        while (key := self._queue.get()) is not None:
            with self._idle:
                work = self._work.get(key)
                if work is None:
                    continue  # dropped at close
                self._running.add(key)
            try:
                work()
            except Exception:
                log.exception("background task %s failed", key.split("/")[0])
            finally:
                with self._idle:
                    self._running.discard(key)
                    if key in self._again:
                        self._again.discard(key)
                        self._queue.put(key)
                    else:
                        self._work.pop(key, None)
                    self._idle.notify_all()
