"""Scripted failures and stalls for the fakes of Webex and Zoom: chosen requests answer an error, or answer late."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import ServedFake


@dataclass
class Failure:
    status: int
    times: int
    method: str | None
    headers: dict[str, str]
    body: dict[str, Any] | None
    applied: bool


@dataclass
class Stall:
    seconds: float
    method: str | None
    times: int | None


@dataclass
class ScriptedState:
    """The requests a fake has seen, and the failures and stalls it has been told of (by path prefix)."""

    failures: list[tuple[str, Failure]] = field(default_factory=list)
    stalls: list[tuple[str, Stall]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)


class ScriptedFake(ServedFake):
    """`fail`, `stall` and `requests_to`, and the WSGI entry that records each request and applies them.

    A fake using it has `state` (a ScriptedState), `_lock`, `_route` (its own answers) and
    `_failure_response` (its error answer); `_failure_headers` adds headers to failures scripted without any.
    """

    state: ScriptedState
    _lock: threading.RLock

    def fail(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        applied: bool = False,
    ) -> None:
        """The next `times` requests under `path_prefix` (and `method`) answer `status`.

        Without `headers` the fake adds its own for that status, if any (Zoom: Retry-After on a 429).
        With `applied` the request takes effect first and only its answer is lost, as when a gateway
        gives up on a backend that has already committed.
        """
        failure = Failure(status, times, method, dict(headers or {}), body, applied)
        with self._lock:
            self.state.failures.append((path_prefix, failure))

    def stall(self, path_prefix: str, seconds: float, *, method: str | None = None, times: int | None = None) -> None:
        """Requests under `path_prefix` take effect, then wait `seconds` before answering (`times`: only so many)."""
        with self._lock:
            self.state.stalls.append((path_prefix, Stall(seconds, method, times)))

    def requests_to(self, method: str, path_prefix: str) -> list[Request]:
        with self._lock:
            return [r for r in self.state.requests if r.method == method and r.path.startswith(path_prefix)]

    def _route(self, request: Request) -> Response:
        raise NotImplementedError

    def _failure_response(self, status: int, body: dict[str, Any] | None) -> Response:
        """The service's error answer for a scripted failure: `body`, or its own error body when None."""
        raise NotImplementedError

    def _failure_headers(self, status: int) -> dict[str, str]:
        """Headers for a failure scripted without any."""
        return {}

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()
        with self._lock:
            self.state.requests.append(request)
            failure = self._scripted_failure(request)
            if failure is None or failure.applied:
                response = self._route(request)
            if failure is not None:
                response = self._failure_response(failure.status, failure.body)
                response.headers.update(failure.headers or self._failure_headers(failure.status))
            delay = self._scripted_stall(request)
        if delay:
            time.sleep(delay)
        return response(environ, start_response)

    def _scripted_failure(self, request: Request) -> Failure | None:
        for prefix, failure in self.state.failures:
            if failure.times > 0 and request.path.startswith(prefix) and failure.method in (None, request.method):
                failure.times -= 1
                return failure
        return None

    def _scripted_stall(self, request: Request) -> float:
        for prefix, stall in self.state.stalls:
            if stall.times == 0 or not request.path.startswith(prefix) or stall.method not in (None, request.method):
                continue
            if stall.times is not None:
                stall.times -= 1
            return stall.seconds
        return 0.0
