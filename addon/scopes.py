"""The Google OAuth scopes the add-on asks for, and which of them each trigger needs."""

from __future__ import annotations

_G = "https://www.googleapis.com/auth/"

USERINFO_EMAIL = _G + "userinfo.email"
LOCALE = _G + "script.locale"
GMAIL_EXECUTE = _G + "gmail.addons.execute"
GMAIL_MESSAGE_METADATA = _G + "gmail.addons.current.message.metadata"
CALENDAR_EXECUTE = _G + "calendar.addons.execute"
CALENDAR_EVENT_READ = _G + "calendar.addons.current.event.read"
CALENDAR_EVENTS = _G + "calendar.events"
# Only for installs that keep users' Webex sites in the directory (ADDON_DIRECTORY_SITE_FIELD).
DIRECTORY_USER_READONLY = _G + "admin.directory.user.readonly"

# Everything in deployment.json's oauthScopes; a test keeps the two equal.
ALL = frozenset(
    {
        USERINFO_EMAIL,
        LOCALE,
        GMAIL_EXECUTE,
        GMAIL_MESSAGE_METADATA,
        CALENDAR_EXECUTE,
        CALENDAR_EVENT_READ,
        CALENDAR_EVENTS,
    }
)

GMAIL_HOME = frozenset({USERINFO_EMAIL, GMAIL_EXECUTE})
# script.locale only improves formatting (UTC is the fallback), so no trigger insists on it.
GMAIL_MESSAGE = GMAIL_HOME | {GMAIL_MESSAGE_METADATA}
CALENDAR_HOME = frozenset({USERINFO_EMAIL, CALENDAR_EXECUTE})
# Title and time are not in the event object, so the open event is read through the Calendar API.
CALENDAR_EVENT = CALENDAR_HOME | {CALENDAR_EVENT_READ, CALENDAR_EVENTS}
