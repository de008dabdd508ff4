"""Why a use case stopped, in words the user's card can show (translated where it is shown)."""

from __future__ import annotations

from addon.google.client import GoogleQuota
from cards.i18n import Text


class SchedulingError(Exception):
    """A use case could not be carried out; `message` says what the user can do."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.message = message


class InvalidRequest(SchedulingError):
    """What the user asked for cannot be scheduled; `field` names the form field to point at."""

    def __init__(self, field: str, message: Text) -> None:
        super().__init__(message)
        self.field = field


class StillWorking(SchedulingError):
    """Another request is creating this meeting right now."""


class MeetingUncertain(SchedulingError):
    """The meeting service did not answer a create: a meeting may exist, which a retry or the sweep settles."""


class CalendarNotUpdated(SchedulingError):
    """The meeting could not be written to Calendar; nothing was left behind, or the link says what was."""


class CalendarBusy(Exception):
    """Google asked us to slow down while writing to Calendar; `outcome` says what became of the meeting."""

    def __init__(self, outcome: Text, quota: GoogleQuota) -> None:
        super().__init__(str(outcome))
        self.outcome = outcome
        self.quota = quota
