"""A user's own settings, saved under their domain's policy: what they may choose, checked once."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from addon.events import BadEvent
from addon.policy import EffectiveSettings
from addon.store import Store, UserSettings

MIN_DURATION, MAX_DURATION = 5, 480
MAX_TEMPLATE_ID = 200
WEBEX_SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


@dataclass(frozen=True)
class Choices:
    """What the Settings form sent, as typed."""

    provider: str | None
    duration: str
    webex_site: str | None
    options: frozenset[str]
    template_id: str


Mistake = Literal["template", "webex_site"]


def save_preferences(store: Store, current: EffectiveSettings, choices: Choices) -> UserSettings | Mistake:
    """Store the user's choices and return them as stored; a mistake they can fix on the form is returned
    instead, a forged form is BadEvent.

    What the administrator locks is kept as the user had it, so it returns if the policy is lifted."""
    template = choices.template_id.strip()
    if len(template) > MAX_TEMPLATE_ID or not template.isprintable():
        return "template"
    provider = choices.provider
    if not provider or provider not in current.allowed_providers:
        raise BadEvent("provider must be one of the meeting services your domain allows")
    if "provider" in current.locked and provider != current.provider:
        raise BadEvent("your administrator sets the meeting service")
    try:
        duration = int(choices.duration or "")
    except ValueError as error:
        raise BadEvent("duration_minutes must be a whole number") from error
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise BadEvent(f"duration_minutes must be between {MIN_DURATION} and {MAX_DURATION}")
    site = (choices.webex_site or "").strip().lower().removeprefix("https://").strip("/") or None
    if site is not None and not WEBEX_SITE.match(site):
        return "webex_site"

    def save(stored: UserSettings | None) -> UserSettings:
        base = stored or UserSettings(user_id=current.user_id)
        return dataclasses.replace(
            base,
            provider=base.provider if "provider" in current.locked else provider,
            duration_minutes=base.duration_minutes if "duration_minutes" in current.locked else duration,
            webex_site=base.webex_site if "webex_site" in current.locked else site,
            waiting_room="waiting_room" in choices.options,
            auto_add="auto_add" in choices.options,
            template_id=template or None,
            updated_at=datetime.now(UTC),
        )

    saved = store.update(UserSettings, current.user_id, save)
    if saved is None:  # save() always returns a record
        raise RuntimeError("the store kept no settings")
    return saved
