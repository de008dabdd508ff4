"""What handlers derive from a verified request: the user's effective settings, and a Scheduler acting for them."""

from __future__ import annotations

import dataclasses

from addon import scopes
from addon.meetings.catalog import display_name
from addon.policy import EffectiveSettings, effective_settings
from addon.scheduling import Actor, Scheduler
from addon.web.guard import AddonRequest
from addon.web.signin import require_account
from cards.i18n import Text
from cards.sync_status import sync_status


def effective_settings_for(req: AddonRequest) -> EffectiveSettings:
    """The user's defaults under their domain's policy (the policy is cached; the settings are read ahead)."""
    stored = req.known.settings
    policy = req.services.policies.for_email(req.user.email)
    return effective_settings(req.user.sub, stored, policy, req.services.meetings.offered)


def scheduler(req: AddonRequest, defaults: EffectiveSettings) -> Scheduler:
    """Use cases for this user on their meeting service; asks them to connect an account first if needed."""
    require_account(req.services, req.user.sub, defaults.provider, req.known)
    actor = Actor(req.user.sub, req.user.email, req.user_token, req.zone)
    site = defaults.webex_site or directory_site(req, defaults)
    return Scheduler(
        req.services,
        actor,
        dataclasses.replace(defaults, webex_site=site),
        tracker=req.syncer,
        known=req.known,
        user_waiting=True,
    )


def directory_site(req: AddonRequest, defaults: EffectiveSettings) -> str | None:
    """After the policy and the user, the directory names the Webex site; then Webex's own preference."""
    field = req.services.settings.directory_site_field
    granted = scopes.DIRECTORY_USER_READONLY in req.event.authorization.authorized_scopes
    if defaults.provider != "webex" or not field or not granted:
        return None
    return req.services.directory_sites.site_of(req.services.google, req.user.email, req.user_token, field)


def sync_status_for(req: AddonRequest, refused: list[str]) -> Text:
    """How the user's meetings follow Calendar: automatic, limited, or paused by whom (`refused`: who did)."""
    who = refused[0] if refused else None
    return sync_status(who, display_name(who) if who else None, in_background=req.services.offline.available)
