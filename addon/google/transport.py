"""The connections Google API calls travel on: kept open per host, shared by every thread, one TLS context."""

from __future__ import annotations

import http.client
import ssl
import threading
import zlib
from urllib.parse import urlsplit

import httplib2
from httplib2 import certs
from httplib2.decode import DecodeLimitError, DecodeRatioError, DeflateDecoder, LimitDecoder, ZlibDecoder

# Idle connections kept per host: more than the threads that call Google at once (gunicorn's and the syncs').
IDLE_PER_HOST = 32
# The failures of a kept connection that the server had closed while it was idle: the request never reached it.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

Connection = http.client.HTTPConnection
Host = tuple[str, str, int]


class GoogleTransportError(OSError):
    """No usable answer from Google: the connection failed, broke or timed out, or the body did not decode."""


class PooledHttp:
    """The `http` google-api-python-client calls: open connections kept per host and lent to one thread at a time.

    It replaces one httplib2.Http per thread, wrapped per call for the token: the caller sets the Authorization
    header itself. As httplib2 was set up, it follows no redirect, retries only a kept connection the server had
    closed, decompresses gzip and deflate answers, and trusts the same roots (HTTPLIB2_CA_CERTS, else certifi's),
    loaded once instead of for each new connection.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._tls: ssl.SSLContext | None = None
        self._idle: dict[Host, list[Connection]] = {}
        self._lock = threading.Lock()

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        redirections: int = 0,
        connection_type: object = None,
    ) -> tuple[httplib2.Response, bytes]:
        """One request; the answer as httplib2 gives it, which is what the client library reads."""
        parts = urlsplit(uri)
        host = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        target = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        payload = body.encode() if isinstance(body, str) else body
        kept = self._take(host)
        if kept is None:
            connection = self._connect(host)
            answer, content = self._send(connection, method, target, payload, headers or {})
        else:
            connection = kept
            try:
                answer, content = self._send(connection, method, target, payload, headers or {}, stale_is_error=False)
            except _STALE:
                # The server closed it while it was idle; a new connection has no such excuse.
                connection = self._connect(host)
                answer, content = self._send(connection, method, target, payload, headers or {})
        if answer.will_close:
            connection.close()
        else:
            self._give(host, connection)
        response = httplib2.Response(answer)
        return response, _decompressed(response, content)

    def close(self) -> None:
        """Close every idle connection (at shutdown, when no call is running)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    @staticmethod
    def _send(
        connection: Connection,
        method: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        stale_is_error: bool = True,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """The answer and its body; GoogleTransportError when there is none (or, unless `stale_is_error`, _STALE)."""
        try:
            connection.request(method, target, body, headers)
            answer = connection.getresponse()
            return answer, answer.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            if not stale_is_error and isinstance(error, _STALE):
                raise
            raise GoogleTransportError(f"{type(error).__name__}: {error}") from error

    def _take(self, host: Host) -> Connection | None:
        """The most recently used idle connection to `host`, if there is one."""
        with self._lock:
            idle = self._idle.get(host)
            return idle.pop() if idle else None

    def _give(self, host: Host, connection: Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(host, [])
            if len(idle) < IDLE_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def _connect(self, host: Host) -> Connection:
        """A connection, opened by its first request."""
        scheme, name, port = host
        if scheme == "https":
            return http.client.HTTPSConnection(name, port, timeout=self._timeout, context=self._tls_context())
        return http.client.HTTPConnection(name, port, timeout=self._timeout)

    def _tls_context(self) -> ssl.SSLContext:
        """Made at the first https connection: loading the roots costs tens of milliseconds, once."""
        with self._lock:
            if self._tls is None:
                self._tls = ssl.create_default_context(cafile=certs.where())
            return self._tls


def _decompressed(response: httplib2.Response, content: bytes) -> bytes:
    """The body without its content-encoding, bounded against decompression bombs, as httplib2 gives it."""
    encoding = response.get("content-encoding")
    if encoding not in ("gzip", "deflate", "zlib"):
        return content
    try:
        try:
            content = LimitDecoder(ZlibDecoder()).consume_bytes(content, 0)
        except zlib.error:
            content = LimitDecoder(DeflateDecoder()).consume_bytes(content, 0)
    except (zlib.error, DecodeLimitError, DecodeRatioError) as error:
        raise GoogleTransportError(f"the answer said {encoding} but did not decompress: {error}") from error
    response["content-length"] = str(len(content))
    response["-content-encoding"] = response.pop("content-encoding")
    return content
