"""Resident memory of processes, read from /proc."""

from __future__ import annotations

from pathlib import Path


def rss_bytes(pid: int) -> int:
    """The resident set size of a process (VmRSS), 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
