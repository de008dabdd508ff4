"""Google Cloud's admin REST APIs that `python -m addon doctor` reads, served by FakeGoogle on its one base URL.

Workspace Add-ons (deployments.get, getAuthorization), Cloud Tasks queues.get, Cloud Scheduler jobs.list,
Datastore Admin indexes.list, Firestore Admin fields.get (TTL), and the metadata server's account email.
As on Google, each call needs the bearer token of an identity holding a role with the permission, an API
the project has not enabled answers 403 SERVICE_DISABLED, and errors read {"error": {code, message, status}}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import json_response

ROLE_PERMISSIONS = {
    "roles/gsuiteaddons.reader": frozenset({"gsuiteaddons.deployments.get", "gsuiteaddons.authorizations.get"}),
    "roles/cloudtasks.viewer": frozenset({"cloudtasks.queues.get"}),
    "roles/cloudscheduler.viewer": frozenset({"cloudscheduler.jobs.list"}),
    "roles/datastore.indexViewer": frozenset({"datastore.indexes.list", "datastore.indexes.get"}),
}
ALL_VIEWER_ROLES = frozenset(ROLE_PERMISSIONS)
SERVICE_NAMES = {
    "gsuiteaddons.googleapis.com": "Google Workspace add-ons API",
    "cloudtasks.googleapis.com": "Cloud Tasks API",
    "cloudscheduler.googleapis.com": "Cloud Scheduler API",
    "datastore.googleapis.com": "Cloud Datastore API",
    "firestore.googleapis.com": "Cloud Firestore API",
}
DEFAULT_DATABASE_FIELDS = "collectionGroups/__default__/fields/*"


@dataclass
class FakeCloudState:
    # (project, deployment id) -> the Deployment resource Google holds.
    deployments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # project -> {serviceAccountEmail, oauthClientId}
    authorizations: dict[str, dict[str, str]] = field(default_factory=dict)
    # Full queue name -> Queue resource.
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    # "projects/P/locations/L" -> that location's Cloud Scheduler jobs.
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # project -> Datastore composite indexes.
    indexes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # (project, kind, property) -> ttlConfig.state (CREATING, ACTIVE, NEEDS_REPAIR); absent: no TTL policy.
    ttl: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # Identity (lower-case email) -> the roles it holds on every project.
    roles: dict[str, set[str]] = field(default_factory=dict)
    disabled_services: set[str] = field(default_factory=set)


class FakeGoogleCloud:
    """The admin APIs' routes; `caller` names the identity a bearer token stands for (None: not a token)."""

    def __init__(self, caller: Callable[[str], str | None], runtime_email: Callable[[], str]) -> None:
        self._caller = caller
        self._runtime_email = runtime_email
        self.state = FakeCloudState()

    def reset(self) -> None:
        self.state = FakeCloudState()

    # Arranging -----------------------------------------------------------------------------

    def grant(self, identity: str, *roles: str) -> None:
        self.state.roles.setdefault(identity.lower(), set()).update(roles or ALL_VIEWER_ROLES)

    def revoke(self, identity: str, role: str) -> None:
        self.state.roles.get(identity.lower(), set()).discard(role)

    def add_deployment(self, project: str, deployment_id: str, deployment: dict[str, Any]) -> None:
        # Google names the resource by project number; the API takes the project id in the path too.
        name = f"projects/123456789/deployments/{deployment_id}"
        self.state.deployments[(project, deployment_id)] = {"name": name, **deployment, "etag": "W/etag-1"}

    def add_queue(
        self, name: str, *, state: str = "RUNNING", per_second: float = 500.0, concurrent: int = 1000
    ) -> None:
        self.state.queues[name] = {
            "name": name,
            "rateLimits": {
                "maxDispatchesPerSecond": per_second,
                "maxBurstSize": 100,
                "maxConcurrentDispatches": concurrent,
            },
            "retryConfig": {"maxAttempts": 100, "minBackoff": "0.100s", "maxBackoff": "3600s", "maxDoublings": 16},
            "state": state,
            "type": "PUSH",
        }

    def add_job(
        self,
        location: str,
        job_id: str,
        *,
        uri: str,
        schedule: str,
        oidc_email: str | None,
        audience: str | None = None,
        state: str = "ENABLED",
        method: str = "POST",
    ) -> None:
        target: dict[str, Any] = {"uri": uri, "httpMethod": method}
        if oidc_email is not None:
            target["oidcToken"] = {"serviceAccountEmail": oidc_email, **({"audience": audience} if audience else {})}
        self.state.jobs.setdefault(location, []).append(
            {
                "name": f"{location}/jobs/{job_id}",
                "httpTarget": target,
                "schedule": schedule,
                "timeZone": "Etc/UTC",
                "state": state,
            }
        )

    def add_index(self, project: str, kind: str, properties: list[tuple[str, str]], state: str = "READY") -> None:
        found = self.state.indexes.setdefault(project, [])
        found.append(
            {
                "projectId": project,
                "indexId": f"CICAgJi{len(found)}",
                "kind": kind,
                "ancestor": "NONE",
                "properties": [{"name": name, "direction": direction} for name, direction in properties],
                "state": state,
            }
        )

    # Serving -------------------------------------------------------------------------------

    def handle(self, request: Request, parts: list[str]) -> Response | None:
        """The answer for an admin API route, or None for a path that is not one (FakeGoogle goes on)."""
        if parts == ["computeMetadata", "v1", "instance", "service-accounts", "default", "email"]:
            return self._metadata_email(request)
        if request.method != "GET":
            return None
        if parts[:2] == ["v1", "projects"] and len(parts) == 5 and parts[3] == "deployments":
            return self._read(request, "gsuiteaddons", "deployments.get", parts[2], self._deployment, parts)
        if parts[:2] == ["v1", "projects"] and len(parts) == 4 and parts[3] == "authorization":
            return self._read(request, "gsuiteaddons", "authorizations.get", parts[2], self._authorization, parts)
        if parts[:2] == ["v2", "projects"] and len(parts) == 7 and parts[3] == "locations" and parts[5] == "queues":
            return self._read(request, "cloudtasks", "queues.get", parts[2], self._queue, parts)
        if parts[:2] == ["v1", "projects"] and len(parts) == 6 and parts[3] == "locations" and parts[5] == "jobs":
            return self._read(request, "cloudscheduler", "jobs.list", parts[2], self._jobs, parts)
        if parts[:2] == ["v1", "projects"] and len(parts) == 4 and parts[3] == "indexes":
            return self._read(request, "datastore", "indexes.list", parts[2], self._indexes, parts)
        if parts[:2] == ["v1", "projects"] and len(parts) == 9 and parts[3:5] == ["databases", "(default)"]:
            return self._read(request, "firestore", "indexes.get", parts[2], self._field, parts)
        return None

    def _read(
        self,
        request: Request,
        service: str,
        method: str,
        project: str,
        answer: Callable[[list[str]], Response],
        parts: list[str],
    ) -> Response:
        """Authenticate, check the API is on and the caller holds the permission, then answer."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        identity = self._caller(token) if scheme == "Bearer" else None
        if identity is None:
            return cloud_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.",
            )
        host = f"{service}.googleapis.com"
        if host in self.state.disabled_services:
            return service_disabled(host, project)
        # Firestore's field configs are guarded by Datastore's index permissions.
        permission = f"{'datastore' if service == 'firestore' else service}.{method}"
        held = set().union(*(ROLE_PERMISSIONS.get(r, frozenset()) for r in self.state.roles.get(identity, set())))
        if permission not in held:
            resource = "/".join(parts[1:])
            return cloud_error(
                403,
                "PERMISSION_DENIED",
                f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "IAM_PERMISSION_DENIED",
                        "domain": "iam.googleapis.com",
                        "metadata": {"permission": permission},
                    }
                ],
            )
        return answer(parts)

    def _deployment(self, parts: list[str]) -> Response:
        deployment = self.state.deployments.get((parts[2], parts[4]))
        return json_response(deployment) if deployment is not None else not_found()

    def _authorization(self, parts: list[str]) -> Response:
        authorization = self.state.authorizations.get(parts[2])
        if authorization is None:
            return not_found()
        return json_response({"name": f"projects/{parts[2]}/authorization", **authorization})

    def _queue(self, parts: list[str]) -> Response:
        queue = self.state.queues.get("/".join(parts[1:]))
        return json_response(queue) if queue is not None else not_found()

    def _jobs(self, parts: list[str]) -> Response:
        jobs = self.state.jobs.get("/".join(parts[1:5]), [])
        return json_response({"jobs": jobs} if jobs else {})

    def _indexes(self, parts: list[str]) -> Response:
        indexes = self.state.indexes.get(parts[2], [])
        return json_response({"indexes": indexes} if indexes else {})

    def _field(self, parts: list[str]) -> Response:
        """fields.get: every field has a config (the database default unless set); ttlConfig only with a policy."""
        if parts[5] != "collectionGroups" or parts[7] != "fields":
            return not_found()
        project, kind, name = parts[2], parts[6], parts[8]
        database = f"projects/{project}/databases/(default)"
        answer: dict[str, Any] = {
            "name": f"{database}/collectionGroups/{kind}/fields/{name}",
            "indexConfig": {"usesAncestorConfig": True, "ancestorField": f"{database}/{DEFAULT_DATABASE_FIELDS}"},
        }
        state = self.state.ttl.get((project, kind, name))
        if state is not None:
            answer["ttlConfig"] = {"state": state}
        return json_response(answer)

    def _metadata_email(self, request: Request) -> Response:
        if request.headers.get("Metadata-Flavor") != "Google":
            return json_response({"error": "Missing required header: Metadata-Flavor"}, 403)
        return Response(self._runtime_email(), mimetype="text/plain")


def cloud_error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    """Google's error body for its newer (gRPC-transcoded) APIs."""
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = details
    return json_response({"error": body}, code)


def not_found() -> Response:
    return cloud_error(404, "NOT_FOUND", "Requested entity was not found.")


def service_disabled(host: str, project: str) -> Response:
    name = SERVICE_NAMES.get(host, host)
    message = (
        f"{name} has not been used in project {project} before or it is disabled. Enable it by visiting "
        f"https://console.developers.google.com/apis/api/{host}/overview?project={project} then retry."
    )
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {"service": host, "consumer": f"projects/{project}"},
        }
    ]
    return cloud_error(403, "PERMISSION_DENIED", message, details)
