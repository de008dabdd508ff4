"""A user's Webex site from their Google directory record, as the Webex add-on reads it (a custom-schema field)."""

from __future__ import annotations

import threading
from time import monotonic

from addon.google.client import GoogleApiError, GoogleApis


class DirectorySites:
    """Reads `Schema.field` of a user's domain_public directory record, cached per user for an hour."""

    def __init__(self, ttl_seconds: float = 3600.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._sites: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def site_of(self, apis: GoogleApis, email: str, user_token: str, field: str) -> str | None:
        """The field's value, or None if the field, the record or the permission to read it is missing."""
        now = monotonic()
        with self._lock:
            cached = self._sites.get(email)
        if cached and now - cached[0] < self.ttl_seconds:
            return cached[1]
        schema, _, name = field.partition(".")
        request = apis.directory_users.get(
            userKey=email, projection="custom", customFieldMask=schema, viewType="domain_public"
        )
        try:
            record = apis.execute(request, user_token)
        except GoogleApiError:
            return None
        value = ((record.get("customSchemas") or {}).get(schema) or {}).get(name)
        site = value.strip().lower().removeprefix("https://").strip("/") if isinstance(value, str) else None
        with self._lock:
            if len(self._sites) > 10_000:
                self._sites.clear()
            self._sites[email] = (now, site or None)
        return site or None
