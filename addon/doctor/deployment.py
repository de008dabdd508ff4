"""Google's side of the add-on: its authorization matches the settings, its deployment what this code renders."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from addon.deployment import render_deployment
from addon.doctor.admin import AdminApiError, refusal
from addon.doctor.context import Check, Doctor, settings_check
from addon.doctor.report import Result, ok, problem, skip
from addon.settings import Settings

ADDONS_READER = "roles/gsuiteaddons.reader"
TRIGGER_KEYS = ("runFunction", "onTriggerFunction")
COMPARED_APART = ("oauthScopes", "addOns.common.openLinkUrlPrefixes")
# (Google's copy, this code's rendering) -> (each difference, what matches when there is none)
Differences = Callable[[dict[str, Any], dict[str, Any]], tuple[list[str], str]]


@settings_check("add-on identity")
def check_addon_identity(doctor: Doctor, settings: Settings) -> Result:
    what = "add-on identity"
    project = doctor.project
    if project is None:
        return skip(what, "pass --project PROJECT_ID (or set GOOGLE_CLOUD_PROJECT)")
    try:
        found = doctor.admin.get("gsuiteaddons", f"v1/projects/{project}/authorization")
    except AdminApiError as error:
        return refusal(what, error, role=ADDONS_READER, project=project, account=doctor.admin.account)
    differences = [
        f"Google uses {found.get(field)}, but {name} is {value}"
        for field, name, value in (
            ("serviceAccountEmail", "ADDON_SERVICE_ACCOUNT_EMAIL", settings.service_account_email),
            ("oauthClientId", "ADDON_OAUTH_CLIENT_ID", settings.oauth_client_id),
        )
        if found.get(field) != value
    ]
    if differences:
        return problem(
            what,
            "; ".join(differences),
            f"set both from gcloud workspace-add-ons get-authorization --project {project}",
        )
    return ok(what, f"ADDON_SERVICE_ACCOUNT_EMAIL and ADDON_OAUTH_CLIENT_ID are project {project}'s")


@dataclass(frozen=True)
class Comparison:
    """Google's copy of the deployment and this code's rendering; or, as `blocked`, why there is nothing to compare."""

    held: dict[str, Any]
    rendered: dict[str, Any]
    fix: str
    blocked: Result | None = None


def _comparison(doctor: Doctor, settings: Settings) -> Comparison:
    name, project = doctor.options.deployment, doctor.project
    if not name:
        return Comparison({}, {}, "", skip("", "pass --deployment NAME (as in gcloud workspace-add-ons deployments)"))
    if project is None:
        return Comparison({}, {}, "", skip("", "pass --project PROJECT_ID (or set GOOGLE_CLOUD_PROJECT)"))
    directory = " --directory-sites" if settings.directory_site_field else ""
    # The deployment command's own rendering, for the origin the settings name.
    rendered = render_deployment(
        settings.base_url,
        directory_sites=bool(settings.directory_site_field),
        jitsi_base_url=settings.jitsi_base_url,
        extra_link_prefixes=settings.link_prefixes,
    )
    render = f"python -m addon deployment --base-url {settings.base_url}{directory} > deployment.mine.json"
    replace = f"gcloud workspace-add-ons deployments replace {name} --deployment-file=deployment.mine.json"
    replace += f" --project {project}"
    fix = f"{render} && {replace}"
    try:
        held = doctor.admin.get("gsuiteaddons", f"v1/projects/{project}/deployments/{name}")
    except AdminApiError as error:
        if error.status == 404:
            create = replace.replace(" replace ", " create ")
            blocked = problem("", f"Google holds no deployment {name} in project {project}", f"{render} && {create}")
        else:
            blocked = refusal("", error, role=ADDONS_READER, project=project, account=doctor.admin.account)
        return Comparison({}, rendered, fix, blocked)
    return Comparison(held, rendered, fix)


def drift_check(aspect: str, differences: Differences) -> Check:
    """One aspect of the deployment compared: `differences(held, rendered)` -> (what differs, what matches)."""
    label = f"deployment {aspect}"

    @settings_check(label)
    def check_drift(doctor: Doctor, settings: Settings) -> Result:
        comparison = doctor.remember("deployment", lambda: _comparison(doctor, settings))
        what = f"deployment {doctor.options.deployment} {aspect}" if doctor.options.deployment else label
        if comparison.blocked is not None:
            return dataclasses.replace(comparison.blocked, what=what)
        found, same = differences(comparison.held, comparison.rendered)
        if found:
            return problem(what, "; ".join(found), comparison.fix)
        return ok(what, same)

    return check_drift


def trigger_differences(held: dict[str, Any], rendered: dict[str, Any]) -> tuple[list[str], str]:
    theirs, ours = _triggers(held), _triggers(rendered)
    found = []
    for point, url in ours.items():
        if point not in theirs:
            found.append(f"{point} is missing (the add-on serves {url})")
        elif theirs[point] != url:
            found.append(f"{point} calls {theirs[point]}, not {url}")
    found.extend(
        f"{point} calls {url}, which this add-on does not render" for point, url in theirs.items() if point not in ours
    )
    return found, f"the {len(ours)} triggers call {_origin(ours)}"


def scope_differences(held: dict[str, Any], rendered: dict[str, Any]) -> tuple[list[str], str]:
    theirs, ours = set(held.get("oauthScopes") or []), set(rendered.get("oauthScopes") or [])
    found = [f"Google's copy lacks {scope}" for scope in sorted(ours - theirs)]
    found.extend(f"Google's copy also asks for {scope}" for scope in sorted(theirs - ours))
    return found, f"the {len(ours)} scopes match"


def link_differences(held: dict[str, Any], rendered: dict[str, Any]) -> tuple[list[str], str]:
    theirs, ours = set(_link_prefixes(held)), set(_link_prefixes(rendered))
    found = [f"Google's copy lacks {prefix}" for prefix in sorted(ours - theirs)]
    found.extend(f"Google's copy also allows {prefix}" for prefix in sorted(theirs - ours))
    return found, "cards may open " + ", ".join(sorted(ours))


def other_differences(held: dict[str, Any], rendered: dict[str, Any]) -> tuple[list[str], str]:
    """Every other field this code renders (name, logo, hosts, httpOptions) as Google holds it."""
    theirs, ours = _leaves(held), _leaves(rendered)
    found = []
    for path, value in ours.items():
        if path.startswith(COMPARED_APART) or path.rsplit(".", 1)[-1] in TRIGGER_KEYS:
            continue
        if path not in theirs:
            found.append(f"{path} is missing (renders {value!r})")
        elif theirs[path] != value:
            found.append(f"{path} is {theirs[path]!r}, not {value!r}")
    return found, "name, logo, hosts and httpOptions match"


def _triggers(deployment: dict[str, Any]) -> dict[str, str]:
    """Trigger point ("calendar.eventOpenTrigger", "common.universalActions[Settings]") -> the URL Google calls."""
    return {
        path.removeprefix("addOns.").rsplit(".", 1)[0]: str(value)
        for path, value in _leaves(deployment.get("addOns") or {}, "addOns").items()
        if path.rsplit(".", 1)[-1] in TRIGGER_KEYS
    }


def _link_prefixes(deployment: dict[str, Any]) -> list[str]:
    return list(((deployment.get("addOns") or {}).get("common") or {}).get("openLinkUrlPrefixes") or [])


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Each scalar (or empty object) by its path; list items by their label where they have one."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(_leaves(item, f"{path}.{key}" if path else key))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, item in enumerate(value):
            label = item.get("label") or item.get("text") if isinstance(item, dict) else None
            found.update(_leaves(item, f"{path}[{label or index}]"))
        return found
    return {path: value}


def _origin(triggers: dict[str, str]) -> str:
    origins = sorted({"/".join(url.split("/", 3)[:3]) for url in triggers.values()})
    return ", ".join(origins) or "nothing"


check_deployment_triggers = drift_check("trigger URLs", trigger_differences)
check_deployment_scopes = drift_check("scopes", scope_differences)
check_deployment_links = drift_check("openLinkUrlPrefixes", link_differences)
check_deployment_rest = drift_check("other fields", other_differences)
