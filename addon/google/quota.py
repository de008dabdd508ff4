"""Which Google answers mean "slow down": rate limits that pass in seconds, usage limits that refill over hours.

Google says it with 429, or with 403 and a reason: `error.errors[].reason` (domain usageLimits) in the
Calendar and Gmail error body, `error.details[].reason` of a google.rpc.ErrorInfo in the newer one. Other
403s are refusals (insufficientPermissions, forbidden, and also accessNotConfigured, whose domain is
usageLimits too), so the reason decides, never the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

# "rate": a per-minute limit, worth another try within seconds; "usage": a daily or usage limit, not today.
QuotaKind = Literal["rate", "usage"]

RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
# dailyLimitExceeded: the project's daily quota; quotaExceeded: Calendar's own per-user usage limits
# (invitations, events created), which Google says replenish over hours.
USAGE_REASONS = frozenset({"dailyLimitExceeded", "quotaExceeded"})
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


@dataclass(frozen=True)
class QuotaAnswer:
    """A "slow down" from Google: how long it lasts, and the reason Google gave (or the status, without one)."""

    kind: QuotaKind
    reason: str


def quota_answer(status: int, body: Any) -> QuotaAnswer | None:
    """What a Google error answer says about quota; None when it is not about quota."""
    if status not in (403, 429):
        return None
    reasons = _reasons(body)
    usage = next((r for r in reasons if r in USAGE_REASONS), None)
    if usage is not None:
        return QuotaAnswer("usage", usage)
    rate = next((r for r in reasons if r in RATE_REASONS), None)
    if rate is not None:
        return QuotaAnswer("rate", rate)
    if status == 429:
        return QuotaAnswer("rate", reasons[0] if reasons else _status_name(body) or "429")
    return None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds (it may be a number of seconds or an HTTP date); None without one."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _reasons(body: Any) -> list[str]:
    """Every reason in the body: the classic `errors[]` first, then the ErrorInfo details."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return []
    found = [item.get("reason") for item in error.get("errors") or [] if isinstance(item, Mapping)]
    found += [
        item.get("reason")
        for item in error.get("details") or []
        if isinstance(item, Mapping) and item.get("@type") == ERROR_INFO
    ]
    return [reason for reason in found if isinstance(reason, str) and reason]


def _status_name(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, Mapping) else None
    named = error.get("status") if isinstance(error, Mapping) else None
    return named if isinstance(named, str) and named else None
