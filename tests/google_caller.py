"""Event objects, and POSTing them to the app the way Google does (signed system and user tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from addon import scopes
from addon.settings import Settings
from tests.fakes.google import FakeGoogle
from tests.fakes.identity import system_claims, user_claims
from tests.link_allowlist import card_links, deployed_prefixes, refused_links


@dataclass(frozen=True)
class TestUser:
    __test__ = False
    sub: str
    email: str
    oauth_token: str


ALICE = TestUser(sub="108234567890123456789", email="alice@corp.example", oauth_token="ya29.alice-oauth-token")


class GoogleCaller:
    """Sends requests as Google would: a system ID token for the URL called, and a user ID token in the body.

    Like a published deployment, it refuses an answer whose cards open a link the rendered allowlist lacks.
    """

    def __init__(self, client: FlaskClient, google: FakeGoogle, settings: Settings) -> None:
        self.client = client
        self.google = google
        self.settings = settings
        self.link_prefixes = deployed_prefixes(settings)
        # Every link the app's answers asked Google to open or show, in order: what a test walked.
        self.links_seen: list[str] = []

    def system_token(self, path: str, **overrides: Any) -> str:
        claims = system_claims(self.settings.base_url + path, self.settings.service_account_email, **overrides)
        return self.google.key.sign(claims)

    def user_token(self, user: TestUser = ALICE, **overrides: Any) -> str:
        return self.google.key.sign(user_claims(self.settings.oauth_client_id, user.sub, user.email, **overrides))

    def post(
        self,
        path: str,
        body: Any,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        auth = {"Authorization": f"Bearer {token or self.system_token(path.split('?')[0])}"}
        response = self.client.post(path, json=body, headers={**auth, **(headers or {})})
        # What follows the answer (audit rows, a SIP address, tracking the calendar) is done before the test
        # looks, so it never races a test's next step; the syncs it starts run on as they do.
        application = getattr(self.client, "application", None)  # in-process; a live server is not waited on
        if application is not None:
            assert application.extensions["addon"].after_answer.wait_idle(20)
        answer = _json_of(response)
        refused = refused_links(answer, self.link_prefixes)
        assert not refused, f"Google would not open {refused}: not in openLinkUrlPrefixes {self.link_prefixes}"
        self.links_seen.extend(card_links(answer))
        return response

    def event(
        self,
        host_app: str,
        user: TestUser = ALICE,
        granted: frozenset[str] = scopes.ALL,
        time_zone: str | None = "Europe/Zurich",
        locale: str | None = "en-GB",
        **host: Any,
    ) -> dict[str, Any]:
        """An event object as Google documents it; `host` adds the gmail or calendar part."""
        self.google.add_user_token(user.oauth_token)
        common: dict[str, Any] = {"hostApp": host_app, "platform": "WEB"}
        if time_zone:
            common["timeZone"] = {"id": time_zone, "offset": 3600000}
        if locale:
            common["userLocale"] = locale
        event: dict[str, Any] = {
            "commonEventObject": common,
            "authorizationEventObject": {
                "userOAuthToken": user.oauth_token,
                "userIdToken": self.user_token(user),
                "systemIdToken": self.system_token("/"),
                "authorizedScopes": sorted(granted),
            },
        }
        event.update(host)
        return event

    def gmail_event(self, message_id: str, access_token: str, **kwargs: Any) -> dict[str, Any]:
        gmail = {"messageId": message_id, "threadId": "thread-" + message_id, "accessToken": access_token}
        return self.event("GMAIL", gmail=gmail, **kwargs)

    def calendar_event(self, calendar_id: str, event_id: str | None, **calendar: Any) -> dict[str, Any]:
        part: dict[str, Any] = {"calendarId": calendar_id, **calendar}
        if event_id is not None:
            part["id"] = event_id
        part.setdefault(
            "capabilities",
            {
                "canSeeAttendees": True,
                "canAddAttendees": True,
                "canSeeConferenceData": True,
                "canSetConferenceData": True,
            },
        )
        return self.event("CALENDAR", calendar=part)

    def trigger_events(self, message: tuple[str, str], event: tuple[str, str]) -> dict[str, dict[str, Any]]:
        """The body Google sends to each trigger path of deployment.json, for one (id, token) message and one event."""
        return {
            "/gmail/home": self.event("GMAIL"),
            "/gmail/message": self.gmail_event(*message),
            "/calendar/home": self.event("CALENDAR"),
            "/calendar/event-open": self.calendar_event(*event),
            "/calendar/event-update": self.calendar_event(*event),
            "/actions/settings": self.event("GMAIL"),
        }


def _json_of(response: Any) -> Any:
    """The JSON answer of a Flask test response or of a requests response (a live server); None if not JSON."""
    try:
        return response.get_json(silent=True) if hasattr(response, "get_json") else response.json()
    except ValueError:
        return None
