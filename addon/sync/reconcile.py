"""The backstop for lost notifications: every calendar synced in turn, a run at a time, from where the last stopped."""

from __future__ import annotations

import time
from collections.abc import Callable

from addon.services import Services
from addon.store import TaskCursor
from addon.sync.records import SyncRecords
from addon.tasks import SyncQueue

RECONCILE_CURSOR = "reconcile"


def reconcile_all(
    services: Services,
    records: SyncRecords,
    queue: SyncQueue,
    sync_now: Callable[[str], object | None],
    deadline: float,
) -> int:
    """Sync every calendar the service account may read; returns how many were synced or queued.

    Calendars are queued where the queue outlives this process (Cloud Tasks), else synced here (`sync_now`).
    A run that reaches its deadline leaves a cursor, and the next run goes on from there, so every calendar
    gets its turn.
    """
    if not services.offline.available:
        return 0
    cursor = services.store.get(TaskCursor, RECONCILE_CURSOR)
    start = cursor.after if cursor else ""
    synced, last, finished = 0, start, True
    for record in records.every(after=start):
        if time.monotonic() >= deadline:
            finished = False
            break
        # A calendar in backoff has its own sync waiting for the backoff's end (or the next run).
        if not record.suspended and not record.backing_off():
            queued = queue.durable and queue.sync_later(record.sync_id)
            if queued or sync_now(record.sync_id) is not None:
                synced += 1
        last = record.sync_id
    services.store.put(TaskCursor(task=RECONCILE_CURSOR, after="" if finished else last))
    return synced
