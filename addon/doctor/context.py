"""What every check reads: the admin's options, the settings as the server loads them, and the admin's APIs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from addon.doctor.admin import AdminApi, AdminIdentity
from addon.doctor.report import Result, skip
from addon.settings import Settings, SettingsError

REPOSITORY = Path(__file__).resolve().parent.parent.parent
INDEX_FILE = REPOSITORY / "index.yaml"
CRON_FILE = REPOSITORY / "cron.yaml"

T = TypeVar("T")


@dataclass(frozen=True)
class DoctorOptions:
    """The command line's flags; what is not given is not checked (SKIP), except the settings."""

    test_user: str | None = None
    deployment: str | None = None
    project: str | None = None
    scheduler_location: str | None = None
    index_file: Path = INDEX_FILE
    cron_file: Path = CRON_FILE


class Doctor:
    """One run: the settings loaded once (or why they do not load), the project, and reads shared by checks."""

    def __init__(self, options: DoctorOptions, environ: Mapping[str, str]) -> None:
        self.options = options
        self.environ = environ
        self.settings: Settings | None = None
        self.settings_error: str | None = None
        self.admin = AdminApi((environ.get("ADDON_GOOGLE_API_ENDPOINT") or "").strip().rstrip("/") or None)
        try:
            # Secrets in Secret Manager are read as the admin running doctor: this machine has no app identity.
            self.settings = Settings.from_env(environ, secrets_as=AdminIdentity(self.admin))
        except SettingsError as error:
            self.settings_error = str(error)
        self._memo: dict[str, Any] = {}

    @cached_property
    def project(self) -> str | None:
        """The --project flag, else GOOGLE_CLOUD_PROJECT (as the app reads it), else the credentials' project."""
        return self.options.project or self.environ.get("GOOGLE_CLOUD_PROJECT") or self.admin.default_project

    def remember(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per run: several checks read one deployment."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


@dataclass(frozen=True)
class Check:
    """One check: `label` names it when it cannot say more (skipped, or failed inside doctor itself)."""

    label: str
    run: Callable[[Doctor], Result]


def check(label: str) -> Callable[[Callable[[Doctor], Result]], Check]:
    def wrap(function: Callable[[Doctor], Result]) -> Check:
        return Check(label, function)

    return wrap


def settings_check(label: str) -> Callable[[Callable[[Doctor, Settings], Result]], Check]:
    """A check that needs the loaded settings; without them it is skipped, and the settings line says why."""

    def wrap(function: Callable[[Doctor, Settings], Result]) -> Check:
        def run(doctor: Doctor) -> Result:
            if doctor.settings is None:
                return skip(label, "the settings do not load (see the settings line)")
            return function(doctor, doctor.settings)

        return Check(label, run)

    return wrap
