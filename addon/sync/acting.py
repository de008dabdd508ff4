"""Background work acts for one user at a time: their effective settings, use cases and meeting services."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addon.meetings.model import Provider as MeetingService
from addon.policy import EffectiveSettings, effective_settings
from addon.scheduling import Actor, CalendarTracker, Scheduler
from addon.services import Services
from addon.store import MeetingLink, UserSettings
from addon.user_state import UserState


class ActingFor:
    """Builds what a sync needs for the user a calendar or a meeting belongs to, the way a request would."""

    def __init__(self, services: Services, tracker: CalendarTracker) -> None:
        self.services = services
        self.tracker = tracker

    def defaults(self, user_id: str, email: str, known: UserState | None = None) -> EffectiveSettings:
        """The user's settings under their domain's policy (the policy's Webex site included)."""
        stored = known.settings if known is not None else self.services.store.get(UserSettings, user_id)
        policy = self.services.policies.for_email(email)
        return effective_settings(user_id, stored, policy, self.services.meetings.offered)

    def scheduler(
        self, *, user_id: str, email: str, token: str, zone: str | None, provider: str | None = None
    ) -> Scheduler:
        """The use cases as this user; `provider` (a meeting's own service) rather than their current choice."""
        # The settings and the grants in one lookup, as a request reads them.
        known = UserState(self.services.store, user_id, list(self.services.meetings.grants.apps))
        defaults = self.defaults(user_id, email, known)
        if provider:
            defaults = dataclasses.replace(defaults, provider=provider)
        actor = Actor(user_id, email, token, _zone(zone))
        return Scheduler(self.services, actor, defaults, tracker=self.tracker, known=known)

    def service(self, link: MeetingLink) -> MeetingService:
        """The meeting service of a link, acting for its owner."""
        site = self.defaults(link.user_id, link.user_email or "").webex_site
        return self.services.meetings.provider(link.user_id, link.provider, site)

    def rotates_passcodes(self, email: str) -> bool:
        policy = self.services.policies.for_email(email)
        return bool(policy and policy.rotate_passcode_on_removal)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
