"""`python -m addon doctor`: a deployment's settings and every outside service it needs, checked one line each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from addon.doctor import background, configuration, delegation, deployment, meetings, signing_keys, store
from addon.doctor.context import Check, Doctor, DoctorOptions
from addon.doctor.report import Result, problem

__all__ = ["CHECKS", "DoctorOptions", "run"]

CHECKS: tuple[Check, ...] = (
    *configuration.CHECKS,
    deployment.check_addon_identity,
    signing_keys.check_google_certs,
    store.check_store,
    store.check_indexes,
    store.check_ttl,
    delegation.check_background_sync,
    meetings.check_zoom,
    meetings.check_webex,
    background.check_tasks_queue,
    background.check_scheduled_tasks,
    deployment.check_deployment_triggers,
    deployment.check_deployment_scopes,
    deployment.check_deployment_links,
    deployment.check_deployment_rest,
)


def run(options: DoctorOptions, environ: Mapping[str, str], out: TextIO) -> int:
    """Print each check's line as it finishes; 1 if any found a PROBLEM, else 0."""
    doctor = Doctor(options, environ)
    problems = 0
    for check in CHECKS:
        result = _outcome(check, doctor)
        print(result.line, file=out, flush=True)
        problems += result.status == "PROBLEM"
    return 1 if problems else 0


def _outcome(check: Check, doctor: Doctor) -> Result:
    try:
        return check.run(doctor)
    except Exception as error:
        # A doctor reports; it never stops at a traceback, whatever a misconfiguration makes a library raise.
        return problem(check.label, f"doctor could not finish this check ({type(error).__name__}: {error})")
