"""Work that follows a request: on this process's own worker threads, or queued on Cloud Tasks.

A notification is answered at once and its calendar synced afterwards. On one machine that happens here,
once per key at a time; work lost with a process is repeated by the periodic reconcile (cron). With
ADDON_TASKS_QUEUE set, syncs go through Cloud Tasks instead, and survive the instance that queued them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlencode

from addon.google.client import GoogleUnavailable
from addon.google.runtime import RuntimeIdentity, call_json

log = logging.getLogger(__name__)

WORKERS = 2
CLOUD_TASKS_URL = "https://cloudtasks.googleapis.com"
# Notifications for one calendar within this many seconds share one task.
COALESCE_SECONDS = 5.0


class SyncQueue(Protocol):
    """Where a calendar's sync (one that needs no user token) waits to run: the port sync schedules through."""

    # Whether queued work survives this process (Cloud Tasks), so a cron run may queue instead of syncing.
    durable: bool

    def sync_later(self, sync_id: str, not_before: datetime | None = None) -> bool:
        """Queue a sync of the calendar, no earlier than `not_before`; False if the queue did not take it."""
        ...

    def delete_later(self, link_id: str, when: datetime) -> bool:
        """Queue the deletion of a deleted event's meeting for the end of its grace period."""
        ...


class LocalTasks:
    """A small in-process queue; a key already waiting is not queued twice, one running is run once more."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._work: dict[str, Callable[[], None]] = {}
        self._running: set[str] = set()
        self._again: set[str] = set()
        # Work waiting for its time (submit_later); lost with the process, like the queue.
        self._later: dict[str, threading.Timer] = {}
        self._idle = threading.Condition()  # on an RLock: a timer submits while holding it
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

    def submit_later(self, key: str, delay_seconds: float, work: Callable[[], None]) -> None:
        """Submit `work` under `key` after `delay_seconds`; a key already waiting keeps its time."""

        def due() -> None:
            with self._idle:
                if self._later.pop(key, None) is None:
                    return  # closed meanwhile
                # Queued before the timer is seen gone, so wait_idle never finds a gap between the two.
                self.submit(key, work)
                self._idle.notify_all()

        with self._idle:
            if key in self._later:
                return
            timer = threading.Timer(max(0.0, delay_seconds), due)
            timer.daemon = True
            self._later[key] = timer
        timer.start()

    def wait_idle(self, timeout: float, *, delayed: bool = False) -> bool:
        """Wait until nothing is queued or running (with `delayed`, nor waiting for its time) (tests, shutdown);
        False if that took longer than `timeout`."""
        with self._idle:
            return self._idle.wait_for(
                lambda: not self._work and not self._running and not (delayed and self._later), timeout
            )

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is running (the store closes after this), drop what is still queued or waiting."""
        with self._idle:
            self._work.clear()
            self._again.clear()
            for timer in self._later.values():
                timer.cancel()
            self._later.clear()
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


class LocalSyncQueue:
    """The in-process adapter: syncs on this process's worker threads, timed ones on a timer."""

    durable = False

    def __init__(self, tasks: LocalTasks, sync: Callable[[str], object], delete: Callable[[str], object]) -> None:
        self.tasks = tasks
        self.sync = sync
        self.delete = delete

    def sync_later(self, sync_id: str, not_before: datetime | None = None) -> bool:
        key = "sync:" + sync_id
        delay = (not_before - datetime.now(UTC)).total_seconds() if not_before is not None else 0.0
        if delay > 0:
            self.tasks.submit_later(key, delay, lambda: self.sync(sync_id))
        else:
            self.tasks.submit(key, lambda: self.sync(sync_id))
        return True

    def delete_later(self, link_id: str, when: datetime) -> bool:
        # A timer lost with the process leaves the deletion to the reconcile's sweep.
        delay = (when - datetime.now(UTC)).total_seconds()
        self.tasks.submit_later("delete:" + link_id, delay, lambda: self.delete(link_id))
        return True


class CloudTasks:
    """Calendar syncs queued on Cloud Tasks, which calls /tasks/sync with an OIDC token for the invoker account.

    Work queued here survives the instance that queued it, and runs with the CPU of a request (Cloud Run
    throttles threads outside requests). Only syncs that need no user token go here: tokens never enter a queue.
    """

    durable = True

    def __init__(
        self,
        queue: str,
        base_url: str,
        invoker: str,
        runtime: RuntimeIdentity,
        api_endpoint: str | None = None,
        window_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self.queue = queue
        self.base_url = base_url
        self.invoker = invoker
        self.runtime = runtime
        self.tasks_url = f"{api_endpoint or CLOUD_TASKS_URL}/v2/{queue}/tasks"
        self.window_seconds = window_seconds

    def sync_later(self, sync_id: str, not_before: datetime | None = None) -> bool:
        """Queue a sync of the calendar (run no earlier than `not_before`, if given); False if Cloud Tasks did
        not take it (run it here instead)."""
        # A burst of notifications becomes one task per window: named by the window, run when it closes.
        when = not_before.timestamp() if not_before is not None else time.time()
        window = math.floor(when / self.window_seconds) + 1
        run_at = datetime.fromtimestamp(window * self.window_seconds, UTC)
        return self._queue("sync", {"calendar": sync_id}, run_at, f"{window}")

    def delete_later(self, link_id: str, when: datetime) -> bool:
        """A task for the end of a deleted event's grace period (one per link and moment)."""
        return self._queue("sweep", {"link": link_id}, when, f"{int(when.timestamp())}")

    def _queue(self, task: str, query: dict[str, str], run_at: datetime, suffix: str) -> bool:
        url = f"{self.base_url}/tasks/{task}?{urlencode(query)}"
        digest = hashlib.sha256(next(iter(query.values())).encode()).hexdigest()[:32]
        body = {
            "name": f"{self.queue}/tasks/{task}-{digest}-{suffix}",
            "scheduleTime": run_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "httpRequest": {
                "httpMethod": "POST",
                "url": url,
                "oidcToken": {"serviceAccountEmail": self.invoker, "audience": url},
            },
        }
        try:
            headers = {"Authorization": f"Bearer {self.runtime.token()}", "Content-Type": "application/json"}
            status, answer = call_json(self.tasks_url, "POST", json.dumps({"task": body}), headers)
        except GoogleUnavailable as error:
            log.warning("Cloud Tasks unreachable, running it here: %s", error)
            return False
        if status in (200, 409):  # 409: this window's task is queued already
            return True
        log.warning(
            "Cloud Tasks refused a task (%s), running it here: %s", status, (answer.get("error") or {}).get("status")
        )
        return False
