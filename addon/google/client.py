"""One place that calls Google REST APIs: discovery built once, pooled connections, bounded retries."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import httplib2
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

from addon.google.prepared import PreparedRequest
from addon.google.quota import quota_answer, retry_after
from addon.google.transport import PooledHttp
from addon.outbound import Sleep, pause_before_retry, retry_delay

log = logging.getLogger(__name__)

# 429 is not here: it is a quota answer (addon/google/quota.py), with its own backoff.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# The first wait after a quota answer within a click (it doubles once); Google suggests about a second.
QUOTA_BACKOFF_SECONDS = 1.0
# Whether a call serves someone waiting on a card, or background work that backs off on its own.
CallMode = Literal["interactive", "background"]
_call_mode: ContextVar[CallMode] = ContextVar("google_call_mode", default="interactive")
# The headers an open email's card shows (addon/google/gmail.py); nothing else of the message is read.
GMAIL_METADATA_HEADERS = ("Subject", "Date", "From", "To", "Cc")
# With a custom endpoint the client drops each API's own service path, so it is added back here.
SERVICE_PATHS = {"gmail": "/", "calendar": "/calendar/v3/", "admin": "/"}


class GoogleApiError(Exception):
    """A Google API call failed; subclasses say how the user can recover."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GoogleNotFound(GoogleApiError):
    """The message or event does not exist (any more), or the user may not see it."""


class GoogleUnauthorized(GoogleApiError):
    """The user's Google token expired or was revoked."""


class GoogleForbidden(GoogleApiError):
    """The token lacks a scope or the user lacks permission."""


class GoogleUnavailable(GoogleApiError):
    """Google answered 5xx or did not answer in time, even after retrying."""


class GoogleQuota(GoogleApiError):
    """Google asked us to slow down (429, or 403 with a quota reason); nothing was done, and it is no refusal."""

    def __init__(
        self, message: str, status: int, *, api: str, method: str, reason: str, retry_after: float | None
    ) -> None:
        super().__init__(message, status)
        self.api = api
        self.method = method
        self.reason = reason
        self.retry_after = retry_after


class GoogleRateLimited(GoogleQuota):
    """A rate limit (rateLimitExceeded, userRateLimitExceeded, most 429s): it passes within seconds."""


class GoogleUsageLimitReached(GoogleQuota):
    """A daily or usage limit is used up (dailyLimitExceeded, quotaExceeded): it refills over hours, not seconds."""


class GoogleRejected(GoogleApiError):
    """Google refused the request as malformed (another 4xx)."""


class GoogleConflict(GoogleRejected):
    """The resource exists already (409), e.g. an event inserted with an id that was used before."""


class GoogleApis:
    """Gmail and Calendar clients built once per process from the bundled discovery documents."""

    def __init__(
        self,
        endpoint: str | None = None,
        timeout_seconds: float = 4.0,
        retries: int = 2,
        budget_seconds: float = 8.0,
        quota_backoff_seconds: float = QUOTA_BACKOFF_SECONDS,
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.budget_seconds = budget_seconds
        self.quota_backoff_seconds = quota_backoff_seconds
        self.sleep = sleep
        # Resources are built once: building one walks the discovery document (about a millisecond each).
        self.gmail = _build("gmail", "v1", endpoint)
        self.calendar = _build("calendar", "v3", endpoint)
        self.directory = _build("admin", "directory_v1", endpoint)
        self.gmail_messages = self.gmail.users().messages()
        self.calendar_events = self.calendar.events()
        self.calendar_channels = self.calendar.channels()
        self.directory_users = self.directory.users()
        # The read of every opened email, the busiest call: built once, only the message id filled in per call.
        self.gmail_metadata = PreparedRequest(
            self.gmail_messages.get,
            ("id",),
            userId="me",
            format="metadata",
            metadataHeaders=list(GMAIL_METADATA_HEADERS),
        )
        self._http = PooledHttp(timeout_seconds)

    def execute(self, request: HttpRequest, token: str, headers: Mapping[str, str] | None = None) -> dict:
        """Run a request as the user whose OAuth token is given; map failures to GoogleApiError."""
        # The caller's token, set here rather than by a credentials object wrapped around the http per call.
        request.headers.update(headers or {}, authorization=f"Bearer {token}")
        deadline = time.monotonic() + self.budget_seconds
        for attempt in range(self.retries + 1):
            try:
                return request.execute(http=self._http)
            except HttpError as error:
                status = error.resp.status
                quota = _quota(error, request.methodId)
                if quota is not None:
                    if not self._waited_out(quota, attempt, deadline):
                        raise quota from error
                    continue
                if status not in RETRYABLE_STATUSES or not self._pause(attempt, deadline):
                    raise _mapped(error) from error
                log.info("Google answered %s to %s, retrying", status, request.methodId)
            except OSError as error:
                # What went wrong, as the transport found it (a timeout, a refused or broken connection).
                failure = type(error.__cause__ or error).__name__
                if not self._pause(attempt, deadline):
                    raise GoogleUnavailable(f"Google did not answer: {failure}") from error
                log.info("Google call %s failed (%s), retrying", request.methodId, failure)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the open connections (at shutdown, when no call is running)."""
        self._http.close()

    def _pause(self, attempt: int, deadline: float) -> bool:
        return pause_before_retry(attempt, self.retries, deadline, self.timeout_seconds, sleep=self.sleep)

    def _waited_out(self, quota: GoogleQuota, attempt: int, deadline: float) -> bool:
        """Count the quota answer, then wait before the next try if one is worth it and fits; False if not.

        Only a rate limit in an interactive call is waited out here (honouring Retry-After if it fits the
        budget); background work gets it back at once and backs off per calendar (addon/sync/records.py).
        """
        mode = _call_mode.get()
        delay = None
        if mode == "interactive" and isinstance(quota, GoogleRateLimited):
            delay = retry_delay(
                attempt,
                self.retries,
                deadline,
                self.timeout_seconds,
                at_least=quota.retry_after or 0.0,
                base=self.quota_backoff_seconds,
            )
        count_quota_answer(quota, mode, retrying=delay is not None)
        if delay is None:
            return False
        self.sleep(delay)
        return True


@contextmanager
def background_calls() -> Iterator[None]:
    """Google calls made inside are background work: a quota answer comes back at once, to back off on."""
    token = _call_mode.set("background")
    try:
        yield
    finally:
        _call_mode.reset(token)


def count_quota_answer(quota: GoogleQuota, mode: CallMode, *, retrying: bool) -> None:
    """One WARNING line per quota answer, with the `googleQuota` field a log-based metric counts (README)."""
    fields = {
        "api": quota.api,
        "method": quota.method,
        "reason": quota.reason,
        "status": quota.status,
        "limit": "usage" if isinstance(quota, GoogleUsageLimitReached) else "rate",
        "mode": mode,
        "retrying": retrying,
        "retryAfterSeconds": quota.retry_after,
    }
    message = "Google asked to slow down: %s %s (%s)"
    log.warning(message, quota.method, quota.status, quota.reason, extra={"google_quota": fields})


def _quota(error: HttpError, method: str) -> GoogleQuota | None:
    """The error as a quota answer, if it is one."""
    try:
        body = json.loads(error.content or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    answer = quota_answer(error.resp.status, body)
    if answer is None:
        return None
    kind = GoogleUsageLimitReached if answer.kind == "usage" else GoogleRateLimited
    return kind(
        error.reason or answer.reason,
        error.resp.status,
        api=method.split(".", 1)[0],
        method=method,
        reason=answer.reason,
        retry_after=retry_after(error.resp.get("retry-after")),
    )


def _build(name: str, version: str, endpoint: str | None) -> Resource:
    options = {"api_endpoint": endpoint + SERVICE_PATHS[name]} if endpoint else None
    return build(
        name,
        version,
        http=httplib2.Http(),
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )


def _mapped(error: HttpError) -> GoogleApiError:
    status = error.resp.status
    reason = error.reason or ""
    if status in (404, 410):
        return GoogleNotFound(reason, status)
    if status == 401:
        return GoogleUnauthorized(reason, status)
    if status == 403:
        return GoogleForbidden(reason, status)
    if status == 409:
        return GoogleConflict(reason, status)
    if status in RETRYABLE_STATUSES:
        return GoogleUnavailable(reason, status)
    return GoogleRejected(reason, status)
