"""How one sync of one calendar ended, and the two ways it stops early."""

from __future__ import annotations

from dataclasses import dataclass


class Suspended(Exception):
    """Google or the meeting service refused the user's access: stop, change nothing, tell the user."""

    def __init__(self, who: str) -> None:
        super().__init__(who)
        self.who = who


class TryLater(Exception):
    """An outside service failed for now; the changes are read again on the next signal."""


@dataclass
class SyncReport:
    """What one sync of one calendar did, for logs and tests."""

    events: int = 0
    updated: int = 0
    deleted: int = 0
    moved: int = 0
    copies: int = 0
    occurrences: int = 0
    full: bool = False
    outcome: str = "ok"
