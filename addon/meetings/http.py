"""Calls to a meeting service's REST API: one host from settings, short timeouts, bounded retries, mapped errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests

from addon.meetings.model import (
    GrantRevoked,
    MeetingGone,
    MeetingRejected,
    RateLimited,
    ServiceUnavailable,
)
from addon.outbound import PerThread, Sleep, pause_before_retry

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# A Retry-After this short is waited out inside the request; a longer one goes back to the caller.
MAX_INLINE_RETRY_AFTER_SECONDS = 1.0


class Credentials(Protocol):
    """The user's access token on one service, refreshed on demand."""

    def access_token(self) -> str:
        """A token believed to be valid now."""

    def refreshed_token(self, rejected: str) -> str:
        """A token newer than `rejected`; raises GrantRevoked if the grant is dead."""

    def mark_revoked(self, reason: str) -> None:
        """Record that the service refuses even a fresh token."""


@dataclass(frozen=True)
class ServiceResponse:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


def segment(value: str) -> str:
    """A path segment that cannot leave its place in the URL."""
    return quote(str(value), safe="")


class ServiceClient:
    """JSON over HTTPS to one meeting service, as one user."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        timeout_seconds: float = 4.0,
        retries: int = 2,
        budget_seconds: float = 8.0,
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.budget_seconds = budget_seconds
        self.sleep = sleep
        self._sessions = PerThread(_new_session)

    def call(
        self,
        method: str,
        path: str,
        credentials: Credentials,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        retry_unsafe: bool = False,
    ) -> ServiceResponse:
        """Send one request; retry 5xx, timeouts and short 429s only when repeating it is safe."""
        repeatable = method in ("GET", "PUT", "DELETE", "PATCH") or retry_unsafe
        deadline = time.monotonic() + self.budget_seconds
        token = credentials.access_token()
        refreshed = False
        attempt = 0
        while True:
            try:
                response = self._session().request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.timeout_seconds,
                    allow_redirects=False,  # never carry the bearer token to another host
                )
            except requests.RequestException as error:
                if repeatable and self._pause(attempt, deadline):
                    attempt += 1
                    log.info("%s %s failed (%s), retrying", self.provider, method, type(error).__name__)
                    continue
                raise ServiceUnavailable(self.provider, f"no answer ({type(error).__name__})") from error

            status = response.status_code
            if status < 300:
                return ServiceResponse(status, _json_object(response), response.headers)
            if status == 401 and not refreshed:
                token = credentials.refreshed_token(token)
                refreshed = True
                continue
            if status == 401:
                credentials.mark_revoked("the service refused a freshly refreshed token")
                raise GrantRevoked(self.provider, "the service no longer accepts this account's authorization")
            if status == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if repeatable and wait <= MAX_INLINE_RETRY_AFTER_SECONDS and self._pause(attempt, deadline, wait):
                    attempt += 1
                    continue
                raise RateLimited(self.provider, "too many requests", wait)
            if status in RETRYABLE_STATUSES and repeatable and self._pause(attempt, deadline):
                attempt += 1
                log.info("%s answered %s to %s, retrying", self.provider, status, method)
                continue
            raise self._error(status, _json_object(response))

    def close(self) -> None:
        """Close every thread's connections (at shutdown, when no call is running)."""
        self._sessions.close()

    def _error(self, status: int, body: dict[str, Any]) -> Exception:
        message = service_message(body) or f"HTTP {status}"
        if status in (404, 410):
            return MeetingGone(self.provider, message)
        if status in RETRYABLE_STATUSES:
            return ServiceUnavailable(self.provider, message)
        if 300 <= status < 400:
            return ServiceUnavailable(self.provider, f"unexpected redirect (HTTP {status})")
        return MeetingRejected(self.provider, message)

    def _session(self) -> requests.Session:
        # requests.Session is not documented as thread-safe; each thread keeps its own connections.
        return self._sessions.get()

    def _pause(self, attempt: int, deadline: float, at_least: float = 0.0) -> bool:
        return pause_before_retry(attempt, self.retries, deadline, self.timeout_seconds, at_least, sleep=self.sleep)


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc credentials picked up from the environment
    return session


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """Retry-After as seconds: Webex sends seconds, Zoom an HTTP or ISO date. Unknown means one minute."""
    if not value:
        return 60.0
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when: datetime | None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return 60.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def service_message(body: Mapping[str, Any]) -> str:
    """The service's own explanation: Webex `message`/`errors[].description`, Zoom `message`."""
    details = [
        str(item.get("description") or item.get("message"))
        for item in body.get("errors") or []
        if isinstance(item, dict) and (item.get("description") or item.get("message"))
    ]
    message = str(body.get("message") or "")
    # Webex often repeats `message` in `errors`; say each thing once.
    parts = list(dict.fromkeys(part for part in (message, *details) if part))
    return "; ".join(parts)[:500]


def _json_object(response: requests.Response) -> dict[str, Any]:
    # Zoom sometimes answers XML or nothing at all; an unreadable body is an empty one.
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"items": body}
