"""A fake of Secret Manager's `versions.access` (REST, v1), served over real HTTP on 127.0.0.1.

It insists on what Google insists on: a bearer token the metadata server gave the runtime identity (from the
fake Google), a well-formed version name (a number from 1, or `latest`, the newest version), IAM before
existence (no accessor role: 403, even for a secret that does not exist), 404 for what does not exist, and
FAILED_PRECONDITION for a disabled or destroyed version. Payloads come base64-encoded with their CRC32C,
under the version's full name with the project's number, as Google answers. Errors are Google's JSON shape,
`{"error": {"code", "message", "status"}}`.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from tests.fakes.google import RUNTIME_IDENTITY, FakeGoogle
from tests.fakes.http_server import json_response
from tests.fakes.scripting import ScriptedFake, ScriptedState

PROJECT = "test-project"
PROJECT_NUMBER = "123456789012"
ACCESS_PATH = re.compile(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):access")
SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
VERSION_ID = re.compile(r"latest|[1-9][0-9]*")
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

VersionState = Literal["ENABLED", "DISABLED", "DESTROYED"]


@dataclass
class Version:
    payload: bytes
    state: VersionState = "ENABLED"
    # Damaged on the way: the checksum sent is not the payload's.
    garbled: bool = False


@dataclass
class FakeSecretManagerState(ScriptedState):
    # Versions of each secret by its id, oldest first (version n is versions[n - 1]).
    secrets: dict[str, list[Version]] = field(default_factory=dict)
    # Secrets the accessor holds roles/secretmanager.secretAccessor on; or the whole project.
    accessor: str = RUNTIME_IDENTITY
    accessible: set[str] = field(default_factory=set)
    project_accessor: bool = False
    # Each version name asked for, as asked.
    accessed: list[str] = field(default_factory=list)


class FakeSecretManager(ScriptedFake):
    """Secrets and their versions in one project, read as the runtime identity of `google`'s metadata server."""

    def __init__(self, google: FakeGoogle) -> None:
        self.google = google
        self.state = FakeSecretManagerState()
        self._lock = threading.RLock()
        super().__init__()

    def reset(self) -> None:
        with self._lock:
            self.state = FakeSecretManagerState()

    # Arranging, as an admin does with gcloud ---------------------------------------------------

    def create(self, secret_id: str, payload: str | bytes, *, accessor: bool = True) -> str:
        """`gcloud secrets create ID --data-file=-`, and the accessor role for the runtime (unless told not)."""
        with self._lock:
            self.state.secrets[secret_id] = []
            if accessor:
                self.state.accessible.add(secret_id)
        return self.add_version(secret_id, payload)

    def add_version(self, secret_id: str, payload: str | bytes) -> str:
        """`gcloud secrets versions add ID --data-file=-`; returns the new version's name."""
        data = payload.encode() if isinstance(payload, str) else payload
        with self._lock:
            versions = self.state.secrets[secret_id]
            versions.append(Version(data))
            return version_name(secret_id, len(versions))

    def set_state(self, secret_id: str, number: int, state: VersionState) -> None:
        """`gcloud secrets versions disable|destroy|enable`; a destroyed version loses its payload."""
        with self._lock:
            version = self.state.secrets[secret_id][number - 1]
            if version.state == "DESTROYED":
                raise ValueError("a destroyed version cannot change state")
            version.state = state
            if state == "DESTROYED":
                version.payload = b""

    def garble(self, secret_id: str, number: int) -> None:
        with self._lock:
            self.state.secrets[secret_id][number - 1].garbled = True

    def grant_project_accessor(self) -> None:
        """The accessor role on the whole project: every secret in it, also those not created yet."""
        with self._lock:
            self.state.project_accessor = True

    # Serving -------------------------------------------------------------------------------

    def _failure_response(self, status: int, body: dict[str, Any] | None) -> Response:
        if body is not None:
            return json_response(body, status)
        return _error(status, "The service is currently unavailable." if status == 503 else "Failure.")

    def _route(self, request: Request) -> Response:
        match = ACCESS_PATH.fullmatch(request.path)
        if match is None or request.method != "GET":
            return _error(404, f"Method not found: {request.method} {request.path}")
        caller = self._caller(request)
        if caller is None:
            return _error(401, UNAUTHENTICATED)
        project, secret_id, version_id = match.groups()
        asked = f"projects/{project}/secrets/{secret_id}/versions/{version_id}"
        with self._lock:
            self.state.accessed.append(asked)
            if not SECRET_ID.fullmatch(secret_id) or not VERSION_ID.fullmatch(version_id):
                return _error(400, f"Invalid resource name: {asked}.")
            granted = self.state.project_accessor or secret_id in self.state.accessible
            allowed = granted and caller == self.state.accessor
            if project not in (PROJECT, PROJECT_NUMBER) or not allowed:
                return _error(
                    403,
                    f"Permission 'secretmanager.versions.access' denied for resource '{asked}' (or it may not exist).",
                )
            versions = self.state.secrets.get(secret_id)
            full_secret = f"projects/{PROJECT_NUMBER}/secrets/{secret_id}"
            if not versions:
                return _error(404, f"Secret [{full_secret}] not found or has no versions.")
            number = len(versions) if version_id == "latest" else int(version_id)
            full_name = f"{full_secret}/versions/{number}"
            if number > len(versions):
                return _error(404, f"Secret Version [{full_name}] not found.")
            version = versions[number - 1]
            if version.state != "ENABLED":
                return _error(400, f"Secret Version [{full_name}] is in {version.state} state.", "FAILED_PRECONDITION")
            payload = version.payload
            checksum = crc32c(payload) ^ (1 if version.garbled else 0)
        return json_response(
            {
                "name": full_name,
                "payload": {"data": base64.b64encode(payload).decode("ascii"), "dataCrc32c": str(checksum)},
            }
        )

    def _caller(self, request: Request) -> str | None:
        """Whom the bearer token stands for: the runtime identity (from the fake metadata server), or
        another identity the fake Google issued a token to (an admin running doctor); None if neither."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.google.state_identity(token) if scheme == "Bearer" else None


def version_name(secret_id: str, version: int | str = "latest") -> str:
    return f"projects/{PROJECT}/secrets/{secret_id}/versions/{version}"


def crc32c(data: bytes) -> int:
    """CRC-32C, bit by bit (Google's own reference form), kept apart from the add-on's table-free copy."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def _error(status: int, message: str, name: str | None = None) -> Response:
    body = {"error": {"code": status, "message": message, "status": name or STATUS_NAMES.get(status, "UNKNOWN")}}
    return json_response(body, status)
