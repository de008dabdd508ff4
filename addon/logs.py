"""Structured JSON logs for Cloud Logging, with tokens scrubbed from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from flask import g, has_request_context

# Bearer tokens, Google OAuth tokens (ya29.), and JWTs, wherever they appear in a message.
_SECRETS = re.compile(
    r"(?i)(bearer\s+)[^\s\"']+"
    r"|ya29\.[\w\-.]+"
    r"|eyJ[\w-]+\.[\w-]+\.[\w-]*"
    # OAuth codes, states and our sign-in tickets in request lines (the development server logs URLs).
    r"|(?<=[?&])((?:code|state|ticket|jwt)=)[^&\s\"']+"
)


def scrub(text: str) -> str:
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2) or "") + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the fields Cloud Logging reads (severity, message)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": scrub(record.getMessage()),
            "logger": record.name,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
        }
        if has_request_context():
            entry["requestId"] = getattr(g, "request_id", None)
            if getattr(g, "trigger", None):
                entry["trigger"] = g.trigger
        if isinstance(getattr(record, "audit", None), dict):
            entry["audit"] = record.audit
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
