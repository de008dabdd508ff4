"""What a check found, and the one line it prints: OK, PROBLEM (with the fix) or SKIP (with the reason)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["OK", "PROBLEM", "SKIP"]
# Wide enough for "PROBLEM" and two spaces, so every <what> starts in the same column.
STATUS_WIDTH = 9


@dataclass(frozen=True)
class Result:
    """One check's outcome: `what` was checked, and `detail` says what was found (and for a PROBLEM, the fix)."""

    status: Status
    what: str
    detail: str = ""

    @property
    def line(self) -> str:
        text = f"{self.status:<{STATUS_WIDTH}}{self.what}"
        return f"{text}: {self.detail}" if self.detail else text


def ok(what: str, detail: str = "") -> Result:
    return Result("OK", what, detail)


def problem(what: str, cause: str, fix: str | None = None) -> Result:
    return Result("PROBLEM", what, f"{cause}; fix: {fix}" if fix else cause)


def skip(what: str, why: str) -> Result:
    return Result("SKIP", what, why)
