"""Meetings kept in step with their events, also while the user is away.

syncer.py     the facade: which calendars, one calendar's sync, the periodic tasks
records.py    one calendar's CalendarSync: lease, sync token, suspension, quota backoff
changes.py    what one changed event means for its meeting
follow.py     a meeting taking its event's title, time and guests
deletions.py  deleted events' meetings, after a grace period
ghosts.py     meetings no event shows (a create's lost answer, a retry never made), deleted after a grace
channels.py   Calendar push channels and their secrets
reconcile.py  the backstop for lost notifications
acting.py     settings, use cases and services as the user a calendar belongs to
report.py     how one sync ended, and the two ways it stops early
"""

from addon.sync.channels import HOOK_PATH, token_hash
from addon.sync.report import Suspended, SyncReport, TryLater
from addon.sync.syncer import CalendarSyncer

__all__ = ["HOOK_PATH", "CalendarSyncer", "Suspended", "SyncReport", "TryLater", "token_hash"]
