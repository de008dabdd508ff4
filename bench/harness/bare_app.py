"""The bare comparison target: a Flask app that answers one path with a captured body, verbatim."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODY_FILE_ENV = "BENCH_BARE_BODY_FILE"
PATH_ENV = "BENCH_BARE_PATH"
# What gunicorn is given; the body and the path come from the environment, set by the bench.
SPEC = "bench.harness.bare_app:create_bare_app()"


def bare_env(path: str, body_file: Path) -> dict[str, str]:
    """The environment that makes the bare target answer POST `path` with the bytes of `body_file`."""
    return {PATH_ENV: path, BODY_FILE_ENV: str(body_file)}


def create_bare_app() -> Flask:
    """Gunicorn entry point: POST to the path answers the captured body; /healthz answers as the add-on does."""
    body = Path(os.environ[BODY_FILE_ENV]).read_bytes()
    app = Flask("bare")

    @app.post(os.environ[PATH_ENV])
    def captured() -> Response:
        return Response(body, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
