"""Users' grants on meeting services: sealed at rest, refreshed one request at a time, revoked when refused."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from addon.crypto import Sealed, SealError, SecretBox
from addon.meetings import oauth
from addon.meetings.model import GrantRevoked, MeetingServiceError, NotConnected, ServiceUnavailable
from addon.meetings.oauth import OAuthApp, TokenSet
from addon.store import ProviderGrant, Store

log = logging.getLogger(__name__)

# Refresh a little early, so a token does not expire between our check and the service's.
EXPIRY_MARGIN = timedelta(seconds=60)
# Longer than a token request can take (oauth.TIMEOUT_SECONDS), so a live lease is never stolen.
LEASE_SECONDS = 30
# How long a request waits for another one's refresh before giving up with "try again".
LEASE_WAIT_SECONDS = 6.0
LOCK_STRIPES = 64


class Grants:
    """Save, read, refresh and drop grants; one instance per process, shared by all threads."""

    def __init__(self, store: Store, box: SecretBox, apps: Mapping[str, OAuthApp]) -> None:
        self.store = store
        self.box = box
        self.apps = dict(apps)
        # Threads of one process queue up here; processes and instances meet at the stored lease.
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def save(self, user_id: str, provider: str, tokens: TokenSet) -> ProviderGrant:
        """Store a fresh grant from a completed sign-in, replacing any earlier or revoked one."""
        grant_id = ProviderGrant.id_for(user_id, provider)
        sealed = self._seal(grant_id, tokens)
        now = datetime.now(UTC)

        def replace(existing: ProviderGrant | None) -> ProviderGrant:
            return ProviderGrant(
                grant_id=grant_id,
                user_id=user_id,
                provider=provider,
                key_id=sealed.key_id,
                sealed_tokens=sealed.ciphertext,
                version=(existing.version + 1) if existing else 1,
                connected_at=now,
                updated_at=now,
            )

        saved = self.store.update(ProviderGrant, grant_id, replace)
        if saved is None:  # replace() always returns a record; a store that lost it is a bug to hear about
            raise RuntimeError(f"the store kept no grant {grant_id}")
        return saved

    def get(self, user_id: str, provider: str) -> ProviderGrant | None:
        return self.store.get(ProviderGrant, ProviderGrant.id_for(user_id, provider))

    def tokens(self, grant: ProviderGrant) -> TokenSet:
        """Open the sealed tokens; a grant that cannot be opened counts as revoked.

        A grant sealed with an earlier key is sealed again with the current one, so that key can be retired.
        """
        try:
            raw = self.box.open(Sealed(grant.key_id, grant.sealed_tokens), grant.grant_id)
        except SealError as error:
            log.error("grant %s cannot be opened: %s", grant.grant_id, error)
            raise GrantRevoked(grant.provider, "the stored authorization cannot be read; reconnect") from error
        if grant.key_id != self.box.current_key_id:
            self._reseal(grant, raw)
        data = json.loads(raw)
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            access_expires_at=datetime.fromisoformat(data["access_expires_at"]),
            scope=data.get("scope", ""),
        )

    def credentials(self, user_id: str, provider: str, known: ProviderGrant | None = None) -> GrantCredentials:
        """Credentials acting as the user; `known`: the grant as this request has already read it."""
        return GrantCredentials(self, user_id, provider, known)

    def mark_revoked(self, user_id: str, provider: str, reason: str, version: int | None = None) -> None:
        """Suspend the grant until the user reconnects; the record itself stays, so the user can be told.

        With `version`, only that version is revoked: a reconnect since then made a new, good grant.
        """

        def revoke(grant: ProviderGrant | None) -> ProviderGrant | None:
            if grant is None or grant.status == "revoked":
                return None
            if version is not None and grant.version != version:
                return None
            return dataclasses.replace(
                grant,
                status="revoked",
                revoked_reason=reason[:200],
                refresh_lease=None,
                refresh_lease_until=None,
                updated_at=datetime.now(UTC),
            )

        if self.store.update(ProviderGrant, ProviderGrant.id_for(user_id, provider), revoke) is not None:
            log.warning("grant %s/%s revoked: %s", user_id, provider, reason)

    def disconnect(self, user_id: str, provider: str) -> bool:
        """Revoke at the service where it offers that, then forget the grant. True if the service confirmed."""
        grant = self.get(user_id, provider)
        revoked_there = False
        app = self.apps.get(provider)
        if grant is not None and grant.status == "active" and app is not None:
            try:
                tokens = self.tokens(grant)
            except GrantRevoked:
                tokens = None
            if tokens is not None:
                revoked_there = oauth.revoke(app, tokens.refresh_token or tokens.access_token)
        self.store.delete(ProviderGrant, ProviderGrant.id_for(user_id, provider))
        return revoked_there

    # Refreshing ------------------------------------------------------------------------------

    def refreshed_token(self, user_id: str, provider: str, rejected: str | None) -> str:
        """An access token newer than `rejected` (None: any token not about to expire)."""
        grant_id = ProviderGrant.id_for(user_id, provider)
        with self._stripes[hash(grant_id) % LOCK_STRIPES]:
            deadline = time.monotonic() + LEASE_WAIT_SECONDS
            while True:
                grant = self._active(user_id, provider)
                tokens = self.tokens(grant)
                if tokens.access_token != rejected and not _expiring(tokens):
                    return tokens.access_token  # someone else refreshed meanwhile
                lease = self._claim_lease(grant)
                if lease is not None:
                    break
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(provider, "another request is renewing the authorization; try again")
                time.sleep(0.1)
            return self._refresh_holding(grant, tokens, lease)

    def _claim_lease(self, seen: ProviderGrant) -> str | None:
        lease = secrets.token_hex(8)
        now = datetime.now(UTC)

        def claim(grant: ProviderGrant | None) -> ProviderGrant | None:
            if grant is None or grant.status != "active" or grant.version != seen.version:
                return None
            if grant.refresh_lease and grant.refresh_lease_until and grant.refresh_lease_until > now:
                return None
            return dataclasses.replace(
                grant, refresh_lease=lease, refresh_lease_until=now + timedelta(seconds=LEASE_SECONDS)
            )

        after = self.store.update(ProviderGrant, seen.grant_id, claim)
        return lease if after is not None and after.refresh_lease == lease else None

    def _refresh_holding(self, grant: ProviderGrant, tokens: TokenSet, lease: str) -> str:
        app = self.apps.get(grant.provider)
        if app is None or not tokens.refresh_token:
            self.mark_revoked(grant.user_id, grant.provider, "no way to renew the authorization")
            raise GrantRevoked(grant.provider, "the authorization expired and cannot be renewed")
        try:
            fresh = oauth.refresh(app, tokens.refresh_token)
        except GrantRevoked as error:
            self.mark_revoked(grant.user_id, grant.provider, error.message, version=grant.version)
            raise
        except MeetingServiceError:
            self._release(grant.grant_id, lease)
            raise
        sealed = self._seal(grant.grant_id, fresh)

        def store_fresh(current: ProviderGrant | None) -> ProviderGrant | None:
            # The newest refresh token must be kept: with rotation the old one is already dead.
            if current is None or (current.refresh_lease != lease and current.version != grant.version):
                return None
            return dataclasses.replace(
                current,
                key_id=sealed.key_id,
                sealed_tokens=sealed.ciphertext,
                version=current.version + 1,
                refresh_lease=None,
                refresh_lease_until=None,
                updated_at=datetime.now(UTC),
            )

        self.store.update(ProviderGrant, grant.grant_id, store_fresh)
        return fresh.access_token

    def _release(self, grant_id: str, lease: str) -> None:
        def release(grant: ProviderGrant | None) -> ProviderGrant | None:
            if grant is None or grant.refresh_lease != lease:
                return None
            return dataclasses.replace(grant, refresh_lease=None, refresh_lease_until=None)

        self.store.update(ProviderGrant, grant_id, release)

    def _active(self, user_id: str, provider: str) -> ProviderGrant:
        grant = self.get(user_id, provider)
        if grant is None:
            raise NotConnected(provider, "no account connected")
        return _usable(grant)

    def _reseal(self, grant: ProviderGrant, raw: bytes) -> None:
        sealed = self.box.seal(raw, grant.grant_id)

        def reseal(current: ProviderGrant | None) -> ProviderGrant | None:
            # Only the very bytes that were opened: anything newer (a refresh, a reconnect) stays as it is.
            if current is None or (current.key_id, current.sealed_tokens) != (grant.key_id, grant.sealed_tokens):
                return None
            # The same tokens, so the same version: leases and revocations keyed on it still hold.
            return dataclasses.replace(current, key_id=sealed.key_id, sealed_tokens=sealed.ciphertext)

        after = self.store.update(ProviderGrant, grant.grant_id, reseal)
        if after is not None and after.sealed_tokens == sealed.ciphertext:
            log.info("a %s grant was sealed again with the current key", grant.provider)

    def _seal(self, grant_id: str, tokens: TokenSet) -> Sealed:
        data = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "access_expires_at": tokens.access_expires_at.isoformat(),
            "scope": tokens.scope,
        }
        return self.box.seal(json.dumps(data).encode(), grant_id)


class GrantCredentials:
    """The Credentials a provider uses to act as one user (see addon.meetings.http.Credentials)."""

    def __init__(self, grants: Grants, user_id: str, provider: str, known: ProviderGrant | None = None) -> None:
        self.grants = grants
        self.user_id = user_id
        self.provider = provider
        self._known = known
        # Opened once for the provider's life (one request or one sync), not once per call.
        self._tokens: TokenSet | None = None

    def access_token(self) -> str:
        if self._tokens is None:
            known, self._known = self._known, None
            grant = _usable(known) if known is not None else self.grants._active(self.user_id, self.provider)
            self._tokens = self.grants.tokens(grant)
        if not _expiring(self._tokens):
            return self._tokens.access_token
        expiring, self._tokens = self._tokens.access_token, None  # the next call reads what the renewal stored
        return self.grants.refreshed_token(self.user_id, self.provider, expiring)

    def refreshed_token(self, rejected: str) -> str:
        self._tokens = None
        return self.grants.refreshed_token(self.user_id, self.provider, rejected)

    def mark_revoked(self, reason: str) -> None:
        self.grants.mark_revoked(self.user_id, self.provider, reason)


def _usable(grant: ProviderGrant) -> ProviderGrant:
    if grant.status != "active":
        raise GrantRevoked(grant.provider, grant.revoked_reason or "the authorization was revoked")
    return grant


def _expiring(tokens: TokenSet) -> bool:
    return tokens.access_expires_at - EXPIRY_MARGIN <= datetime.now(UTC)
