"""gunicorn's settings for the add-on: gthread workers on $PORT, and the settings checked before any worker starts."""

import os
import sys

from gunicorn.arbiter import Arbiter

# Add-on requests wait on Google and meeting services, so threads, not processes, carry the concurrency.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 20
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
