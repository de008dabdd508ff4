"""gunicorn's settings for the add-on: threaded workers on $PORT, and the settings checked before any worker starts."""

import os
import sys

from gunicorn.arbiter import Arbiter

# Add-on requests wait on Google and meeting services, so threads, not processes, carry the concurrency. The
# worker is gthread reading each request whole before a thread serves it, so slow and idle clients hold no thread
# (README.md, "Slow and idle clients").
worker_class = "addon.serving.worker.BufferingWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 20
# Past this many open connections a worker closes the one waiting longest that no thread serves.
worker_connections = 1000
# gunicorn's defaults, written out as the README's table of request limits names them.
keepalive = 2
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
if "PORT" in os.environ:
    bind = [f":{os.environ['PORT']}"]
# No access log: App Engine and Cloud Run log every request themselves; the app's own logs are JSON.
accesslog = None


def on_starting(server: Arbiter) -> None:
    """Refuse to start, with one line naming the problem, when a setting is missing or wrong."""
    from addon.settings import Settings, SettingsError

    try:
        Settings.from_env()
    except SettingsError as error:
        print(f"Cannot start the add-on: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
