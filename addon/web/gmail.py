"""Gmail triggers: the homepage and an opened message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint

from addon import scopes
from addon.events import BadEvent
from addon.google.client import GoogleForbidden, GoogleNotFound
from addon.google.gmail import MessageMetadata, read_message_metadata
from addon.meetings.catalog import display_name
from addon.web.context import effective_settings_for, sync_status_for
from addon.web.guard import AddonRequest, trigger
from addon.web.signin import SETTINGS_PATH, require_account, sign_in_url
from cards import problems
from cards.home import HomeDefaults, home_card
from cards.message import Participant, ScheduleForm, message_card
from cards.widgets import Json

bp = Blueprint("gmail", __name__)

SCHEDULE_PATH = "/actions/schedule-from-email"
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|tr|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@bp.post("/gmail/home")
@trigger(scopes.GMAIL_HOME, needs_zone=False)
def gmail_home(req: AddonRequest) -> Json:
    return home(req)


@bp.post("/gmail/message")
@trigger(scopes.GMAIL_MESSAGE)
def gmail_message(req: AddonRequest) -> Json:
    defaults = effective_settings_for(req)
    require_account(req.services, req.user.sub, defaults.provider, req.known)
    message = read_open_message(req)
    if message is None:
        return problems.message_unreadable(req.tr, req.request_id)
    people = participants(req, message)
    form = ScheduleForm(
        title=meeting_title(message.subject, fallback=req.tr("Meeting")),
        participants=people,
        chosen=frozenset(p.email for p in people),
        start=next_half_hour(datetime.now(UTC), req.zone),
        duration_minutes=defaults.duration_minutes,
        zone=req.zone,
        submit_url=req.services.settings.base_url + SCHEDULE_PATH,
    )
    return message_card(req.tr, message.subject, message.sent_at, form)


def read_open_message(req: AddonRequest) -> MessageMetadata | None:
    """The open message's headers; None when it cannot be read (deleted, moved, no access)."""
    gmail = req.event.gmail
    if gmail is None or not gmail.message_id or not gmail.access_token:
        raise BadEvent("gmail.messageId and gmail.accessToken are required")
    try:
        return read_message_metadata(req.services.google, req.user_token, gmail.access_token, gmail.message_id)
    except (GoogleNotFound, GoogleForbidden):
        return None


def participants(req: AddonRequest, message: MessageMetadata) -> list[Participant]:
    return [Participant(p.email, p.name) for p in message.participants(excluding=req.user.email)]


def home(req: AddonRequest) -> Json:
    """The homepage card for either host."""
    defaults = effective_settings_for(req)
    connection = req.services.meetings.connection(req.user.sub, defaults.provider, req.known)
    refused = req.syncer.refused_by(req.user.sub)
    return home_card(
        req.tr,
        req.event.common.host_app,
        req.user.email,
        HomeDefaults(
            service=display_name(defaults.provider),
            service_state=connection.state,
            duration_minutes=defaults.duration_minutes,
            time_zone=req.event.common.time_zone,
            sync_status=sync_status_for(req, refused),
            reconnect=reconnect_offer(req, refused),
        ),
        settings_url=req.services.settings.base_url + SETTINGS_PATH,
    )


def reconnect_offer(req: AddonRequest, refused: list[str]) -> tuple[str, str] | None:
    """A meeting service whose refusal paused the sync of the user's calendars, and where to sign in again."""
    for who in refused:
        if who != "google" and req.services.meetings.needs_account(who):
            return display_name(who), sign_in_url(req.services, req.user.sub, who, req.user.email)
    return None


def meeting_title(subject: str, fallback: str = "Meeting") -> str:
    """The subject without reply and forward prefixes ('Re: Fwd: Budget' -> 'Budget')."""
    return _REPLY_PREFIX.sub("", subject).strip() or fallback


def next_half_hour(now: datetime, zone: ZoneInfo) -> datetime:
    """The first :00 or :30 on the user's wall clock strictly after `now`."""
    local = now.astimezone(zone)
    hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    step = 30 if local.minute < 30 else 60
    return (hour + timedelta(minutes=step)).astimezone(zone)
