"""Scripted failures and stalls for every fake: chosen requests answer an error, or late; and the requests seen."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, overload

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import ServedFake


@dataclass
class Failure:
    path_prefix: str
    status: int
    times: int
    method: str | None
    headers: dict[str, str]
    body: dict[str, Any] | None
    # The request takes effect; only its answer is replaced by the failure (a lost answer).
    applied: bool


@dataclass
class Stall:
    path_prefix: str
    seconds: float
    method: str | None
    times: int | None  # None: every matching request


@dataclass
class ScriptedState:
    """The requests a fake has seen, and the failures and stalls it has been told of, in the order told."""

    failures: list[Failure] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)


class ScriptedFake(ServedFake):
    """`fail`, `stall` and `requests_to`, and the WSGI entry that records each request and applies them.

    A fake using it has `state` (a ScriptedState), `_lock`, `_route` (its own answers, called without the
    lock: a fake whose answers share state takes it there) and `_failure_response` (its error answer);
    `_failure_headers` adds headers to failures scripted without any.
    """

    state: ScriptedState
    _lock: threading.RLock

    def fail(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        applied: bool = False,
    ) -> None:
        """The next `times` requests under `path_prefix` (and `method`) answer `status`.

        Failures scripted for the same prefix come one after another: each waits until those before it
        are used up (a refused update, then a refused look at it). Without `headers` the fake adds its
        own for that status, if any (Zoom: Retry-After on a 429); without `body`, its own error body.
        With `applied` the request takes effect first and only its answer is lost, as when a gateway
        gives up on a backend that has already committed.
        """
        failure = Failure(path_prefix, status, times, method, dict(headers or {}), body, applied)
        with self._lock:
            self.state.failures.append(failure)

    def stall(self, path_prefix: str, seconds: float, *, method: str | None = None, times: int | None = None) -> None:
        """Requests under `path_prefix` take effect, then wait `seconds` before answering (`times`: only so many)."""
        with self._lock:
            self.state.stalls.append(Stall(path_prefix, seconds, method, times))

    @overload
    def requests_to(self, path_prefix: str, /) -> list[Request]: ...

    @overload
    def requests_to(self, method: str, path_prefix: str, /) -> list[Request]: ...

    def requests_to(self, *where: str) -> list[Request]:
        """The requests seen under a path prefix, of any method or of the one named first, oldest first."""
        if len(where) not in (1, 2):
            raise TypeError("requests_to(path_prefix) or requests_to(method, path_prefix)")
        *method, prefix = where
        with self._lock:
            return [r for r in self.state.requests if r.path.startswith(prefix) and method in ([], [r.method])]

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
            delay = self._scripted_stall(request)
        if failure is None or failure.applied:
            response = self._route(request)
        if failure is not None:
            response = self._failure_response(failure.status, failure.body)
            response.headers.update(failure.headers or self._failure_headers(failure.status))
        if delay:
            time.sleep(delay)
        return response(environ, start_response)

    def _scripted_failure(self, request: Request) -> Failure | None:
        waiting: set[str] = set()  # prefixes whose next failure is meant for another request
        for failure in self.state.failures:
            if failure.times == 0 or failure.path_prefix in waiting:
                continue
            if _matches(request, failure.path_prefix, failure.method):
                failure.times -= 1
                return failure
            waiting.add(failure.path_prefix)
        return None

    def _scripted_stall(self, request: Request) -> float:
        for stall in self.state.stalls:
            if stall.times == 0 or not _matches(request, stall.path_prefix, stall.method):
                continue
            if stall.times is not None:
                stall.times -= 1
            return stall.seconds
        return 0.0


def _matches(request: Request, path_prefix: str, method: str | None) -> bool:
    return request.path.startswith(path_prefix) and method in (None, request.method)
