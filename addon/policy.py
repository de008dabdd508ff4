"""Admin defaults per domain, and the settings a user actually gets under them."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from addon.store import DomainPolicy, Store, UserSettings

# Admins' changes reach every instance within this long; each request costs no extra lookup meanwhile.
POLICY_CACHE_SECONDS = 60.0
LOCKABLE = ("provider", "duration_minutes", "webex_site")
DEFAULT_DURATION = 30


@dataclass(frozen=True)
class EffectiveSettings:
    """What a user's requests run with: their own choices where the domain lets them choose."""

    user_id: str
    provider: str
    duration_minutes: int
    webex_site: str | None
    waiting_room: bool
    auto_add: bool
    template_id: str | None
    allowed_providers: tuple[str, ...]
    locked: frozenset[str]
    retention_days: int | None


def effective_settings(
    user_id: str, stored: UserSettings | None, policy: DomainPolicy | None, offered: Sequence[str]
) -> EffectiveSettings:
    """Domain policy first where it binds, then the user's own choice, then the domain default, then Jitsi."""
    permitted = policy.allowed_providers if policy and policy.allowed_providers else tuple(offered)
    allowed = tuple(p for p in offered if p in permitted) or ("jitsi",)
    locked = frozenset(policy.locked) if policy else frozenset()
    mine = stored or UserSettings(user_id=user_id)

    default = policy.default_provider if policy and policy.default_provider in allowed else allowed[0]
    chosen = stored is not None and stored.provider in allowed and "provider" not in locked
    provider = mine.provider if chosen else default
    duration = mine.duration_minutes or DEFAULT_DURATION
    if policy and policy.duration_minutes and ("duration_minutes" in locked or not mine.duration_minutes):
        duration = policy.duration_minutes
    site = mine.webex_site
    if policy and policy.webex_site and ("webex_site" in locked or not site):
        site = policy.webex_site
    return EffectiveSettings(
        user_id=user_id,
        provider=provider,
        duration_minutes=duration,
        webex_site=site,
        waiting_room=mine.waiting_room,
        auto_add=mine.auto_add,
        template_id=mine.template_id,
        allowed_providers=allowed,
        locked=locked,
        retention_days=policy.retention_days if policy else None,
    )


class Policies:
    """Domain policies read through a short per-process cache."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, DomainPolicy | None]] = {}
        self._lock = threading.Lock()

    def for_email(self, email: str) -> DomainPolicy | None:
        domain = email.rpartition("@")[2].lower()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(domain)
        if cached and now - cached[0] < POLICY_CACHE_SECONDS:
            return cached[1]
        policy = self.store.get(DomainPolicy, domain)
        with self._lock:
            self._cache[domain] = (now, policy)
        return policy

    def forget(self, domain: str) -> None:
        with self._lock:
            self._cache.pop(domain.lower(), None)
