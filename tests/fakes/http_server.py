"""A threaded HTTP/1.1 server for the fakes' WSGI apps that keeps connections open, as Google's APIs do,
and what every fake served on it shares: `url`, `start` and `stop`, and JSON answers.

Werkzeug's development server closes every connection, which would make each call from the add-on pay
for a new TCP (and TLS) connection that production never pays for.
"""

from __future__ import annotations

import io
import json
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import unquote_to_bytes

from werkzeug.wrappers import Response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a kept-alive connection waits 40 ms for an ACK.
    disable_nagle_algorithm = True
    server: WsgiServer

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ssl.SSLError):
            # The client gave up (a timeout test) or went away; nothing to answer.
            self.close_connection = True

    def _run(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if isinstance(self.connection, ssl.SSLSocket) else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value

        status_line: list[str] = []
        response_headers: list[tuple[str, str]] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            status_line[:] = [status]
            response_headers[:] = headers

        chunks = self.server.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        code, _, reason = status_line[0].partition(" ")
        self.send_response(int(code), reason)
        for name, value in response_headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _run

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fakes record requests themselves


class WsgiServer(ThreadingHTTPServer):
    """Serves a WSGI app on 127.0.0.1 with keep-alive, in a daemon thread."""

    daemon_threads = True

    def __init__(self, app: WsgiApp) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self.server_port: int = self.server_address[1]
        # A short poll interval makes stop() quick; tests start and stop fakes often.
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def use_tls(self, context: ssl.SSLContext) -> None:
        """Answer https from now on (call before start)."""
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class ServedFake:
    """A fake answering from its `_wsgi` over HTTP on 127.0.0.1, at `url` once started."""

    def __init__(self) -> None:
        self._server = WsgiServer(self._wsgi)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        raise NotImplementedError


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
