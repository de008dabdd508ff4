"""Background work: the Cloud Tasks queue runs, and a Cloud Scheduler job calls each /tasks/* URL of cron.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from addon.doctor.admin import AdminApiError, refusal
from addon.doctor.context import Doctor, settings_check
from addon.doctor.report import Result, ok, problem, skip
from addon.security import request_audiences
from addon.settings import Settings

TASKS_VIEWER = "roles/cloudtasks.viewer"
SCHEDULER_VIEWER = "roles/cloudscheduler.viewer"
# /tasks/* answers these (addon/web/tasks.py).
TASK_METHODS = ("GET", "POST")
_EVERY = re.compile(r"every (\d+) (minutes|hours)")


@settings_check("Cloud Tasks queue")
def check_tasks_queue(doctor: Doctor, settings: Settings) -> Result:
    if not settings.tasks_queue:
        return skip("Cloud Tasks queue", "ADDON_TASKS_QUEUE is not set, so syncs run on the instance's own threads")
    queue = settings.tasks_queue
    what = f"Cloud Tasks queue {queue}"
    _, project, _, location, _, name = queue.split("/")
    try:
        found = doctor.admin.get("cloudtasks", f"v2/{queue}")
    except AdminApiError as error:
        if error.status == 404:
            return problem(
                what, "does not exist", f"gcloud tasks queues create {name} --location {location} --project {project}"
            )
        return refusal(what, error, role=TASKS_VIEWER, project=project, account=doctor.admin.account)
    state = str(found.get("state") or "STATE_UNSPECIFIED")
    limits = _rate_limits(found.get("rateLimits") or {})
    if state in ("PAUSED", "DISABLED"):
        # DISABLED: a queue.yaml upload that does not list the queue disables it.
        return problem(
            what,
            f"is {state}: it takes syncs but delivers none ({limits})",
            f"gcloud tasks queues resume {name} --location {location} --project {project}",
        )
    if state != "RUNNING":
        return problem(what, f"is {state}, not RUNNING ({limits})")
    return ok(what, f"RUNNING, {limits}")


def _rate_limits(limits: dict[str, Any]) -> str:
    per_second, at_once = limits.get("maxDispatchesPerSecond"), limits.get("maxConcurrentDispatches")
    if per_second is None and at_once is None:
        return "with Cloud Tasks' default rate limits"
    parts = []
    if per_second is not None:
        parts.append(f"at most {float(per_second):g} dispatches a second (maxDispatchesPerSecond)")
    if at_once is not None:
        parts.append(f"{at_once} at once (maxConcurrentDispatches)")
    return " and ".join(parts)


@dataclass(frozen=True)
class CronEntry:
    """One job of cron.yaml: its path and App Engine schedule ("every 10 minutes")."""

    path: str
    schedule: str

    @property
    def unix_schedule(self) -> str:
        """The same schedule as Cloud Scheduler writes it (unix-cron)."""
        match = _EVERY.fullmatch(self.schedule.strip())
        if match is None:
            return "SCHEDULE"
        count, unit = int(match.group(1)), match.group(2)
        return f"*/{count} * * * *" if unit == "minutes" else f"0 */{count} * * *"


def read_cron_file(path: Path) -> list[CronEntry]:
    """The /tasks/* jobs of cron.yaml, in order (its url and schedule lines)."""
    entries: list[CronEntry] = []
    url = None
    for line in path.read_text().splitlines():
        found = re.match(r"^\s*(?:-\s+)?(url|schedule)\s*:\s*(.+?)\s*$", line.split("#", 1)[0])
        if found is None:
            continue
        if found.group(1) == "url":
            url = found.group(2)
        elif url is not None:
            if url.startswith("/tasks/"):
                entries.append(CronEntry(url, found.group(2)))
            url = None
    return entries


@settings_check("scheduled tasks")
def check_scheduled_tasks(doctor: Doctor, settings: Settings) -> Result:
    what = "scheduled tasks"
    if not settings.cron_service_account:
        return skip(
            what,
            "ADDON_CRON_SERVICE_ACCOUNT is not set, so only App Engine cron may call /tasks/*; doctor cannot read "
            "App Engine cron: deploy cron.yaml after each change (gcloud app deploy cron.yaml)",
        )
    location = doctor.options.scheduler_location
    if not location:
        return skip(
            what,
            "pass --scheduler-location REGION to check the Cloud Scheduler jobs "
            "(on App Engine, cron.yaml calls /tasks/*: gcloud app deploy cron.yaml)",
        )
    project = doctor.project
    if project is None:
        return skip(what, "pass --project PROJECT_ID (or set GOOGLE_CLOUD_PROJECT)")
    what = f"Cloud Scheduler jobs in {project}/{location}"
    cron_file = doctor.options.cron_file
    try:
        entries = read_cron_file(cron_file)
    except OSError as error:
        return problem(what, f"cannot read {cron_file} ({error})", "run doctor from the add-on's directory")
    try:
        jobs = doctor.admin.get_all("cloudscheduler", f"v1/projects/{project}/locations/{location}/jobs", "jobs")
    except AdminApiError as error:
        return refusal(what, error, role=SCHEDULER_VIEWER, project=project, account=doctor.admin.account)
    where = f"--location {location} --project {project}"
    account = settings.cron_service_account
    issues = []
    for entry in entries:
        url = settings.base_url + entry.path
        calling = [job for job in jobs if (job.get("httpTarget") or {}).get("uri") == url]
        if not calling:
            job_id = "addon-" + entry.path.removeprefix("/tasks/")
            issues.append(
                f"no job calls {url} (gcloud scheduler jobs create http {job_id} {where} "
                f"--schedule '{entry.unix_schedule}' --uri {url} --http-method POST "
                f"--oidc-service-account-email {account} --oidc-token-audience {url})"
            )
        for job in calling:
            issues.extend(_job_issues(job, url, settings, where))
    if issues:
        return problem(what, "; ".join(issues))
    paths = ", ".join(entry.path for entry in entries)
    return ok(what, f"{paths} each have an enabled job with an OIDC token for {account}")


def _job_issues(job: dict[str, Any], url: str, settings: Settings, where: str) -> list[str]:
    job_id = str(job.get("name", "")).rsplit("/", 1)[-1]
    target = job.get("httpTarget") or {}
    oidc = target.get("oidcToken") or {}
    account = settings.cron_service_account
    update = f"gcloud scheduler jobs update http {job_id} {where}"
    issues = []
    state = job.get("state")
    if state != "ENABLED":
        issues.append(f"job {job_id} is {state} (gcloud scheduler jobs resume {job_id} {where})")
    sender = oidc.get("serviceAccountEmail")
    if sender != account:
        sends = f"an OIDC token for {sender}" if sender else "no OIDC token"
        issues.append(
            f"job {job_id} sends {sends}, but the app takes only {account}'s "
            f"({update} --oidc-service-account-email {account} --oidc-token-audience {url})"
        )
    # Without an audience Cloud Scheduler uses the job's URL, which the app accepts.
    audience = oidc.get("audience")
    parts = urlsplit(url)
    if sender == account and audience and audience not in request_audiences(settings.base_url, parts.path, parts.query):
        issues.append(
            f"job {job_id}'s token is for audience {audience}, not its URL ({update} --oidc-token-audience {url})"
        )
    method = target.get("httpMethod") or "POST"
    if method not in TASK_METHODS:
        issues.append(f"job {job_id} sends {method}, but /tasks/* takes GET or POST ({update} --http-method POST)")
    return issues
