"""What a meeting service is asked for and what it gives back, and the few ways a call can fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class MeetingOptions:
    """Settings a user may choose; a service ignores the ones it does not have."""

    passcode: str | None = None
    waiting_room: bool = False
    alternative_hosts: tuple[str, ...] = ()
    template_id: str | None = None
    # An RFC 5545 RRULE without the "RRULE:" prefix, e.g. "FREQ=WEEKLY;BYDAY=MO;COUNT=10".
    recurrence: str | None = None


@dataclass(frozen=True)
class MeetingSpec:
    """A meeting as the calendar event describes it. `start` and `end` are timezone-aware."""

    title: str
    start: datetime
    end: datetime
    time_zone: str
    invitees: tuple[str, ...] = ()
    agenda: str = ""
    options: MeetingOptions = field(default_factory=MeetingOptions)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("meeting times must carry a time zone")
        if self.end <= self.start:
            raise ValueError("a meeting must end after it starts")

    @property
    def duration_minutes(self) -> int:
        # Subtract in UTC: within one ZoneInfo Python subtracts wall clocks and misses a DST change.
        return max(1, round((self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds() / 60))


@dataclass(frozen=True)
class DialIn:
    label: str
    number: str
    toll_free: bool = False


@dataclass(frozen=True)
class Meeting:
    """A meeting on a service: what invitees need to join it."""

    provider: str
    meeting_id: str
    join_url: str
    meeting_code: str | None = None
    passcode: str | None = None
    dial_in: tuple[DialIn, ...] = ()
    sip_address: str | None = None
    # One link for every occurrence of a series, with no times of its own (Zoom's "no fixed time" meeting).
    no_fixed_time: bool = False


@dataclass(frozen=True)
class KnownMeeting:
    """What our record already knows of a meeting, so an update need not read it from the service first."""

    idempotency_key: str
    join_url: str
    invitees: tuple[str, ...]  # the guests the meeting was last given
    no_fixed_time: bool
    # The alternative hosts it was last given (MeetingOptions.alternative_hosts), who are invitees too on Webex.
    alternative_hosts: tuple[str, ...] = ()


class Provider(Protocol):
    """One meeting service acting for one user."""

    name: str
    # Whether rotate_passcode really gives the meeting a new passcode (a public Jitsi room has none to change).
    can_rotate_passcode: bool
    # Whether the service keeps each occurrence of a series as its own meeting, so that moving or cancelling
    # one occurrence must be sent to it; when False, every occurrence uses the series' meeting as it is.
    series_occurrences: bool

    def create(self, spec: MeetingSpec, idempotency_key: str, *, maybe_made: bool = True) -> Meeting:
        """Create the meeting; the same key always yields the same meeting, never a second one.

        It carries what the create's own answer says; `completed` adds what takes a call of its own.
        `maybe_made`: an earlier attempt may have made it, so look for it first; a first attempt (False)
        goes straight to the create and looks only if the create's answer is lost."""

    def completed(self, meeting: Meeting) -> Meeting:
        """The meeting with the join details that take a call of their own (Zoom's SIP address).

        Best effort: the meeting as it is when that call fails. Where no detail needs a call, no call is made.
        """

    def update(self, meeting_id: str, spec: MeetingSpec, *, known: KnownMeeting | None = None) -> Meeting:
        """Change time, title, options and invitees; raises MeetingGone if it no longer exists.

        Afterwards the invitees are exactly `spec.invitees` plus the alternative hosts of `spec.options`.
        An error means the change may be partly applied; calling again with the same spec (and `known`)
        finishes it.

        `known`: the caller's record of the meeting as the last create or update that succeeded left it, so
        fewer reads are needed. The meeting returned may then carry only meeting_id, join_url and
        no_fixed_time (no dial-in, passcode or SIP address): do not rewrite the join details from it unless
        its join_url differs from `known.join_url`.
        """

    def rotate_passcode(self, meeting_id: str) -> Meeting:
        """Give the meeting a new passcode, so old copies of the invitation stop working; the meeting as it is now.

        Where `can_rotate_passcode` is False, nothing changes and the meeting comes back as it was.
        """

    def update_occurrence(self, meeting_id: str, original_start: datetime, spec: MeetingSpec) -> None:
        """Move or retitle the one occurrence of a series that started at `original_start` (timezone-aware).

        `spec.start` and `spec.end` are the occurrence's new times. Raises MeetingGone if that occurrence or the
        series no longer exists. A no-op where `series_occurrences` is False.
        """

    def cancel_occurrence(self, meeting_id: str, original_start: datetime) -> None:
        """Delete only the occurrence that started at `original_start`; one already gone is not an error."""

    def delete(self, meeting_id: str) -> None:
        """Delete the meeting; deleting one that is already gone is not an error."""

    def get(self, meeting_id: str) -> Meeting:
        """The meeting as the service has it now; raises MeetingGone if it no longer exists."""

    def find(self, idempotency_key: str, start: datetime, end: datetime) -> Meeting | None:
        """The meeting a create with this key made, looked for around `start`..`end`; None if there is none."""


def aware_time(value: object) -> datetime | None:
    """An ISO 8601 time with its offset, as the services answer them; None for anything else."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def occurrence_start(moment: datetime) -> datetime:
    """An occurrence's start as its series had it, in UTC; refused without a time zone (it would be ambiguous)."""
    if moment.tzinfo is None:
        raise ValueError("an occurrence's original start must carry a time zone")
    return moment.astimezone(UTC)


class MeetingServiceError(Exception):
    """A call to a meeting service failed; subclasses say what the add-on should do about it."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


class NotConnected(MeetingServiceError):
    """The user has not connected an account on this service."""


class GrantRevoked(MeetingServiceError):
    """The service no longer honours the user's grant (invalid_grant); the user must reconnect."""


class MeetingGone(MeetingServiceError):
    """The meeting was deleted on the service (404/410, Zoom code 3001)."""


class RateLimited(MeetingServiceError):
    """The service asked us to slow down; try again after `retry_after` seconds."""

    def __init__(self, provider: str, message: str, retry_after: float) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class ServiceUnavailable(MeetingServiceError):
    """The service failed (5xx) or did not answer in time, even after retrying."""


class ClientRejected(ServiceUnavailable):
    """The service refused the add-on's own client ID or secret: an install problem, not the user's."""


class MeetingRejected(MeetingServiceError):
    """The service refused the request (4xx); `message` is the service's own explanation."""

    def __init__(self, provider: str, message: str, code: str | None = None) -> None:
        super().__init__(provider, message)
        # The OAuth error code, where a token endpoint gave one (e.g. invalid_request).
        self.code = code
