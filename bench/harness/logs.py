"""The warning and error lines of a gunicorn log: gunicorn's own, tracebacks, and the app's JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

Threshold = Literal["WARNING", "ERROR"]
# The app logs JSON with Python's level names as `severity`; a line with another severity, or none, counts.
QUIET = {"WARNING": ("DEBUG", "INFO"), "ERROR": ("DEBUG", "INFO", "WARNING")}
GUNICORN_MARKS = {
    "WARNING": ("[WARNING]", "[ERROR]", "[CRITICAL]", "Traceback", "WORKER TIMEOUT"),
    "ERROR": ("[ERROR]", "[CRITICAL]", "Traceback", "WORKER TIMEOUT"),
}


def log_problems(path: Path, least: Threshold = "WARNING") -> list[str]:
    """The lines of the log at severity `least` or worse."""
    problems = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                severity = json.loads(line).get("severity", "")
            except ValueError:
                severity = "UNPARSED"
            if severity not in QUIET[least]:
                problems.append(line)
        elif any(mark in line for mark in GUNICORN_MARKS[least]):
            problems.append(line)
    return problems
