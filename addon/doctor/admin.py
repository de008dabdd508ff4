"""Google Cloud's admin REST APIs, read with the admin's own application-default credentials."""

from __future__ import annotations

import re
import warnings
from typing import Any

import google.auth
import requests
from google.auth import impersonated_credentials
from google.auth.credentials import Credentials
from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
from google.auth.transport.requests import Request

from addon.doctor.report import Result, problem
from addon.google.client import GoogleUnavailable

# Each API's own host; ADDON_GOOGLE_API_ENDPOINT puts them all on one root (tests).
API_ROOTS = {
    "gsuiteaddons": "https://gsuiteaddons.googleapis.com",
    "cloudtasks": "https://cloudtasks.googleapis.com",
    "cloudscheduler": "https://cloudscheduler.googleapis.com",
    "datastore": "https://datastore.googleapis.com",
    "firestore": "https://firestore.googleapis.com",
}
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TIMEOUT_SECONDS = 10.0
MAX_PAGES = 20
_DISABLED_API = re.compile(r"apis/api/([a-z0-9.-]+\.googleapis\.com)")


class AdminApiError(Exception):
    """A read failed; `status` is Google's HTTP status, None when nothing answered or there are no credentials."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        permission: str | None = None,
        disabled_service: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # Google's canonical code (NOT_FOUND, PERMISSION_DENIED, ...), or NO_CREDENTIALS / UNREACHABLE.
        self.code = code
        self.permission = permission
        self.disabled_service = disabled_service


class TimedRequest(Request):
    """google-auth's transport with a short timeout: its own default waits two minutes for a token."""

    def __call__(self, *args: Any, timeout: float = TIMEOUT_SECONDS, **kwargs: Any) -> Any:
        return super().__call__(*args, timeout=timeout, **kwargs)


class AdminApi:
    """GET on Google Cloud's admin APIs as the admin (`gcloud auth application-default login`)."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint
        self._session = requests.Session()
        self._credentials: Credentials | None = None
        self._project: str | None = None
        self._missing: AdminApiError | None = None
        self._loaded = False

    def credentials(self) -> Credentials:
        """The admin's credentials; AdminApiError(code NO_CREDENTIALS) if this machine has none."""
        if not self._loaded:
            self._loaded = True
            try:
                with warnings.catch_warnings():
                    # google-auth warns about end-user credentials without a quota project; README covers it.
                    warnings.simplefilter("ignore")
                    self._credentials, self._project = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
            except DefaultCredentialsError as error:
                self._missing = AdminApiError(f"no Google credentials on this machine ({error})", code="NO_CREDENTIALS")
        if self._credentials is None:
            raise self._missing or AdminApiError("no Google credentials on this machine", code="NO_CREDENTIALS")
        return self._credentials

    @property
    def default_project(self) -> str | None:
        """The project the credentials name (gcloud's configured project), if any."""
        try:
            self.credentials()
        except AdminApiError:
            return None
        return self._project

    @property
    def account(self) -> str | None:
        """The email the credentials act as, where they say it (service accounts, impersonation)."""
        try:
            email = getattr(self.credentials(), "service_account_email", None)
        except AdminApiError:
            return None
        return email if isinstance(email, str) and "@" in email else None

    @property
    def impersonating(self) -> bool:
        """Whether the credentials act as a service account they impersonate (--impersonate-service-account)."""
        try:
            return isinstance(self.credentials(), impersonated_credentials.Credentials)
        except AdminApiError:
            return False

    def token(self) -> str:
        """A current access token of the admin's (an AccessTokenSource, for keyless signing off Google Cloud)."""
        self._authorize("https://iamcredentials.googleapis.com", {})
        return str(self.credentials().token)

    def get(self, api: str, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """The JSON object at `path` on the API; AdminApiError for anything but a 200."""
        url = f"{self.endpoint or API_ROOTS[api]}/{path}"
        headers = {"Accept": "application/json"}
        self._authorize(url, headers)
        try:
            response = self._session.get(
                url, params=params, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.RequestException as error:
            raise AdminApiError(
                f"{url.split('/')[2]} did not answer ({type(error).__name__})", code="UNREACHABLE"
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200:
            raise api_error(response.status_code, body)
        return body

    def get_all(self, api: str, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of a list method, page after page (up to a bound)."""
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {}
        for _ in range(MAX_PAGES):
            page = self.get(api, path, params)
            items.extend(item for item in page.get(key) or [] if isinstance(item, dict))
            if not page.get("nextPageToken"):
                break
            params = {"pageToken": str(page["nextPageToken"])}
        return items

    def _authorize(self, url: str, headers: dict[str, str]) -> None:
        credentials = self.credentials()
        try:
            # Refreshes when needed, then sets the bearer token (and the quota project, if one is configured).
            credentials.before_request(TimedRequest(self._session), "GET", url, headers)
        except GoogleAuthError as error:
            raise AdminApiError(
                f"your credentials could not get a token ({type(error).__name__}: {error})", code="UNAUTHENTICATED"
            ) from error


class AdminIdentity:
    """The admin's credentials as an access-token source (reading secrets, signing), failing as Google does."""

    def __init__(self, admin: AdminApi) -> None:
        self.admin = admin

    def token(self) -> str:
        try:
            return self.admin.token()
        except AdminApiError as error:
            raise GoogleUnavailable(str(error)) from error


def api_error(status: int, body: dict[str, Any]) -> AdminApiError:
    """Google's error body ({"error": {code, message, status, details}}) as an AdminApiError."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = str(error.get("message") or f"HTTP {status}")
    reasons = {
        str(detail.get("reason")): detail.get("metadata") or {}
        for detail in error.get("details") or []
        if isinstance(detail, dict)
    }
    disabled = reasons.get("SERVICE_DISABLED", {}).get("service")
    legacy = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
    if disabled is None and ("accessNotConfigured" in legacy or "has not been used in project" in message):
        found = _DISABLED_API.search(message)
        disabled = found.group(1) if found else None
    return AdminApiError(
        message,
        status=status,
        code=str(error.get("status") or ""),
        permission=reasons.get("IAM_PERMISSION_DENIED", {}).get("permission"),
        disabled_service=disabled,
    )


def refusal(what: str, error: AdminApiError, *, role: str, project: str, account: str | None) -> Result:
    """The PROBLEM line for a read that failed for a reason every admin API shares (not a missing resource)."""
    if error.code == "NO_CREDENTIALS":
        return problem(what, error.message, "run gcloud auth application-default login")
    if error.status is None and error.code == "UNREACHABLE":
        return problem(what, error.message, "let this machine reach Google's APIs over https")
    if error.disabled_service:
        return problem(
            what,
            f"the API {error.disabled_service} is not enabled in project {project}",
            f"gcloud services enable {error.disabled_service} --project {project}",
        )
    if error.status == 401 or error.code == "UNAUTHENTICATED":
        return problem(
            what, f"Google refused your credentials ({error.message})", "gcloud auth application-default login"
        )
    if error.status == 403:
        member = f"serviceAccount:{account}" if account else "user:YOUR_EMAIL"
        return problem(
            what,
            f"your credentials may not read it ({error.permission or error.code or 'PERMISSION_DENIED'})",
            f"gcloud projects add-iam-policy-binding {project} --member {member} --role {role}",
        )
    return problem(what, f"Google answered {error.status} {error.code}: {error.message}".replace("  ", " "))
