"""Settings kept in Secret Manager: version names recognised, and read at start as the app's runtime identity."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from addon.google.runtime import AccessTokenSource, RuntimeCredentials, RuntimeIdentity

if TYPE_CHECKING:
    from google.cloud.secretmanager import SecretManagerServiceClient

SECRET_MANAGER_ENDPOINT = "https://secretmanager.googleapis.com"  # noqa: S105 - a URL, not a secret
VERSION_NAME = re.compile(r"projects/[^/\s]+/secrets/[A-Za-z0-9_-]{1,255}/versions/(latest|[1-9][0-9]*)")
TIMEOUT_SECONDS = 5.0
# Retries of a 503 or a 429 end within this; a start that fails is retried by App Engine or Cloud Run anyway.
RETRY_BUDGET_SECONDS = 5.0
ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


class SecretError(ValueError):
    """A secret cannot be read; the message names the version and says what to do, never the value."""


def names_a_version(value: str) -> bool:
    """Whether a setting's value is a Secret Manager version name rather than the secret itself."""
    return VERSION_NAME.fullmatch(value) is not None


def looks_like_a_version(value: str) -> bool:
    """A value meant as a version name, well formed or not (a plain secret never starts like one)."""
    return value.startswith("projects/") and "/secrets/" in value


class SecretReader:
    """Reads secret versions over Secret Manager's REST API; the client is built at the first read."""

    def __init__(
        self,
        endpoint: str = SECRET_MANAGER_ENDPOINT,
        metadata_host: str | None = None,
        identity: AccessTokenSource | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        # The app's runtime identity; `doctor` on an admin's machine reads as the admin instead.
        self._identity = identity or RuntimeIdentity(metadata_host)
        self._client: SecretManagerServiceClient | None = None

    def read(self, name: str) -> str:
        """The version's payload as text, surrounding whitespace removed (a newline from `echo` is common)."""
        from google.api_core import exceptions as api
        from google.api_core import retry
        from google.auth import exceptions as auth
        from requests import RequestException

        if not names_a_version(name):
            raise SecretError(
                f"{name!r} is not a Secret Manager version name: use projects/PROJECT/secrets/SECRET/versions/latest "
                "or a version number"
            )
        secret = name.rsplit("/versions/", 1)[0]
        again = retry.Retry(
            predicate=retry.if_exception_type(api.ServiceUnavailable, api.TooManyRequests, api.InternalServerError),
            initial=0.2,
            maximum=1.0,
            timeout=RETRY_BUDGET_SECONDS,
        )
        try:
            answer = self._secret_manager().access_secret_version(name=name, retry=again, timeout=TIMEOUT_SECONDS)
        except api.NotFound as error:
            raise SecretError(f"secret {name} was not found: create the secret, or name a version it has") from error
        except api.Forbidden as error:  # PERMISSION_DENIED
            raise SecretError(
                f"reading {name} was denied: the runtime service account needs {ACCESSOR_ROLE} on secret {secret}"
            ) from error
        except api.Unauthorized as error:  # UNAUTHENTICATED
            raise SecretError(f"Secret Manager refused the runtime identity's token while reading {name}") from error
        except api.ClientError as error:
            # Over REST, FAILED_PRECONDITION is a 400 that only the body's status tells apart.
            if isinstance(error, api.FailedPrecondition) or _status(error) == "FAILED_PRECONDITION":
                raise SecretError(
                    f"secret {name} is disabled or destroyed: enable it, or name a version that is enabled"
                ) from error
            raise SecretError(f"Secret Manager refused to read {name}: {_cause(error)}") from error
        except auth.GoogleAuthError as error:
            raise SecretError(f"no runtime identity to read {name} with: {error}") from error
        except (api.GoogleAPIError, RequestException) as error:
            raise SecretError(
                f"Secret Manager at {self.endpoint} did not answer for {name}: {_cause(error)}"
            ) from error
        payload = answer.payload
        if "data_crc32c" in payload and payload.data_crc32c != crc32c(payload.data):
            raise SecretError(f"secret {name} arrived corrupted (its CRC32C checksum does not match)")
        try:
            text = payload.data.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            raise SecretError(f"secret {name} is not UTF-8 text") from error
        if not text:
            raise SecretError(f"secret {name} is empty: add a version with the value")
        return text

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()

    def _secret_manager(self) -> SecretManagerServiceClient:
        if self._client is None:
            from google.cloud import secretmanager

            # REST, not gRPC: no channel that could hang across gunicorn's fork, and plain HTTP to a local fake works.
            self._client = secretmanager.SecretManagerServiceClient(
                credentials=RuntimeCredentials(self._identity),
                transport="rest",
                client_options={"api_endpoint": self.endpoint},
            )
        return self._client


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum Secret Manager sends with each payload."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def _status(error: Exception) -> str | None:
    """The canonical status name in a Google error body, e.g. FAILED_PRECONDITION."""
    response = getattr(error, "response", None)
    try:
        status = response.json()["error"]["status"]  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return status if isinstance(status, str) else None


def _cause(error: BaseException) -> str:
    """One line: the kind of failure and, for an HTTP answer, its status; never a body that could echo a value."""
    last = getattr(error, "cause", None)  # a RetryError carries the last failure
    if isinstance(last, BaseException):
        return f"{_cause(last)}, until the retries ran out"
    code = getattr(error, "code", None)
    return f"{type(error).__name__} ({int(code)})" if isinstance(code, int) else type(error).__name__
