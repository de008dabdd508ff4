"""Structured JSON logs for Cloud Logging, with tokens scrubbed from every record."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# What every line written while handling a request says about it (requestId, trigger, user); the web
# layer sets it when a request starts and clears it when it ends, and background threads have none.
_request_fields: ContextVar[dict[str, str] | None] = ContextVar("request_fields", default=None)

# Bearer tokens, Google OAuth tokens (ya29.), and JWTs, wherever they appear in a message.
_SECRETS = re.compile(
    r"(?i)(bearer\s+)[^\s\"']+"
    r"|ya29\.[\w\-.]+"
    # A JWT starts where a run of its characters starts: a match tried at every "eyJ" of a long run is quadratic.
    r"|(?<![\w-])eyJ[\w-]+\.[\w-]+\.[\w-]*"
    # OAuth codes, states and our sign-in tickets in request lines (the development server logs URLs).
    r"|(?<=[?&])((?:code|state|ticket|jwt)=)[^&\s\"']+"
)


# Email addresses: whose mail and calendars the add-on saw is message metadata, not log material.
# (Tried only where a run of address characters starts, so a long word costs linear time, not quadratic.)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(text: str) -> str:
    """The one filter every log line passes: tokens, codes, tickets and email addresses removed."""
    text = _SECRETS.sub(lambda m: (m.group(1) or m.group(2) or "") + "[redacted]", text)
    return _EMAIL.sub("[email]", text)


def user_hash(user_id: str, key: bytes) -> str:
    """Who a log line is about, without saying it: the same user gives the same value in one install."""
    return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:16]


def start_request(request_id: str) -> None:
    """Lines written from now on, in this thread, belong to this request."""
    _request_fields.set({"requestId": request_id})


def tag_request(**fields: str) -> None:
    """Add fields (trigger=..., user=...) to the lines of the current request."""
    current = _request_fields.get()
    if current is not None:
        _request_fields.set({**current, **fields})


def end_request() -> None:
    _request_fields.set(None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the fields Cloud Logging reads (severity, message)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": scrub(record.getMessage()),
            "logger": record.name,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
        }
        fields = _request_fields.get()
        if fields is not None:
            entry.update(fields)
        if isinstance(getattr(record, "audit", None), dict):
            entry["audit"] = {name: scrub(str(value)) for name, value in record.audit.items()}
        if isinstance(getattr(record, "google_quota", None), dict):
            # Counted by a log-based metric (README): the values keep their types.
            entry["googleQuota"] = {
                name: scrub(value) if isinstance(value, str) else value for name, value in record.google_quota.items()
            }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr as JSON; safe to call more than once."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
