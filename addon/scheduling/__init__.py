"""Scheduling a meeting, once: from an email, onto an event, brought up to date, and taken off again."""

from addon.scheduling.errors import CalendarBusy, CalendarNotUpdated, InvalidRequest, SchedulingError, StillWorking
from addon.scheduling.requests import Actor, CalendarTracker, EmailMeetingRequest, MeetingOnEvent
from addon.scheduling.scheduler import Scheduler, check_times

__all__ = [
    "Actor",
    "CalendarBusy",
    "CalendarNotUpdated",
    "CalendarTracker",
    "EmailMeetingRequest",
    "InvalidRequest",
    "MeetingOnEvent",
    "Scheduler",
    "SchedulingError",
    "StillWorking",
    "check_times",
]
