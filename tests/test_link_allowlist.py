"""Every link a card opens or shows is one a published deployment lets Google open.

GoogleCaller refuses any answer with a link outside the rendered `openLinkUrlPrefixes`, so every test that
talks to the app checks its cards; here each surface is walked once per service, and the rule itself is
held against Google's documented examples.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from addon.link_allowlist import LinkAllowlist
from addon.services import Services
from addon.store import MeetingLink, UserSettings
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.link_allowlist import link_allowed, prefix_matches
from tests.scenarios import use

# Google's examples ("Allowlist URLs", Apps Script manifest guide): (prefix, url, matches).
GOOGLE_EXAMPLES = [
    ("https://example.com/foo", "https://example.com/foo", True),
    ("https://example.com/foo", "https://example.com/foo/", True),
    ("https://example.com/foo", "https://example.com/foo/bar", True),
    ("https://example.com/foo", "https://example.com/foo?bar", True),
    ("https://example.com/foo", "https://example.com/foo#bar", True),
    ("https://example.com/foo", "https://example.com/foobar", False),
    ("https://example.com/foo", "https://example.com/Foo", False),  # paths are case-sensitive
    ("https://example.com/foo", "http://example.com/foo", False),
    ("https://*.example.com/foo", "https://subdomain.example.com/foo", True),
    ("https://*.example.com/foo", "https://any.number.of.subdomains.example.com/foo", True),
    ("https://*.example.com/foo", "https://subdomain.example.com/bar", False),
    ("https://*.example.com/foo", "https://example.com/foo", False),  # at least one subdomain
    ("https://*.example.com/foo", "https://evilexample.com/foo", False),
    ("https://zoom.us/", "https://zoom.us/j/123?pwd=x", True),
    ("https://zoom.us/", "https://zoom.us.evil.example/j/123", False),
    ("https://zoom.us/", "https://user@zoom.us/j/123", False),
]
ZURICH = ZoneInfo("Europe/Zurich")
START = (datetime.now(UTC) + timedelta(days=5)).astimezone(ZURICH).replace(hour=15, minute=0, second=0, microsecond=0)
MESSAGE = FakeMessage(
    "msg-f:91",
    "per-message-91",
    [("Subject", "Roadmap"), ("From", "jane@partner.example"), ("To", "alice@corp.example")],
)
EVENT_ID = "evtlinks"
# Another vendor's meeting on an event: its web link is outside our allowlist, and sip: is never opened.
TEAMS = {
    "conferenceId": "19:meeting_x",
    "conferenceSolution": {"name": "Microsoft Teams", "key": {"type": "addOn"}},
    "entryPoints": [
        {"entryPointType": "video", "uri": "https://teams.microsoft.com/l/meetup-join/19%3ax", "label": "Join"},
        {"entryPointType": "sip", "uri": "sip:123@teams.example", "label": "123@teams.example"},
        {"entryPointType": "more", "uri": "http://dialin.teams.example/x", "label": "More numbers"},
        {"entryPointType": "phone", "uri": "tel:+41-44-000-0000", "label": "+41 44 000 0000"},
    ],
}


@pytest.mark.parametrize(("prefix", "url", "expected"), GOOGLE_EXAMPLES)
def test_googles_matching_rule_as_the_fake_and_the_app_read_it(prefix: str, url: str, expected: bool) -> None:
    assert prefix_matches(url, prefix) is expected
    assert LinkAllowlist([prefix]).permits(url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.google.com/calendar/event?eid=abc", True),  # Google's own pages need no entry
        ("https://calendar.google.com/calendar/r", True),
        ("tel:+41440000000", True),
        ("mailto:bob@corp.example", True),
        ("sip:123@zoomcrc.com", False),
        ("javascript:alert(1)", False),
        ("https://google.com.evil.example/", False),
    ],
)
def test_google_opens_its_own_pages_phone_and_mail_links_and_nothing_else_unlisted(url: str, expected: bool) -> None:
    assert link_allowed(url, ["https://addon.test/"]) is expected
    assert LinkAllowlist(["https://addon.test/"]).permits(url) is expected


def schedule_body(caller: GoogleCaller) -> dict[str, Any]:
    body = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token)
    form = {"title": ["Roadmap"], "participants": ["jane@partner.example"], "duration": ["30"]}
    body["commonEventObject"]["formInputs"] = {name: {"stringInputs": {"value": v}} for name, v in form.items()}
    body["commonEventObject"]["formInputs"]["start"] = {
        "dateTimeInput": {"msSinceEpoch": int(START.timestamp() * 1000)}
    }
    return body


def add_event(google: FakeGoogle, **fields: Any) -> None:
    end = START + timedelta(hours=1)
    google.add_event(
        ALICE.email,
        {
            "id": EVENT_ID,
            "summary": "Planning",
            "start": {"dateTime": START.isoformat(), "timeZone": "Europe/Zurich"},
            "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Zurich"},
            "attendees": [{"email": ALICE.email, "self": True, "organizer": True}, {"email": "bob@corp.example"}],
            **fields,
        },
    )


@pytest.mark.parametrize("provider", ["jitsi", "zoom", "webex"])
def test_every_surface_of_every_service_links_only_where_google_opens(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    zoom.state.join_host = "acme.zoom.us"  # an account with a vanity URL
    google.add_message(MESSAGE)
    add_event(google)
    event = caller.calendar_event(ALICE.email, EVENT_ID)

    # Not connected yet: the sign-in card, then connected: every card from home to removal.
    services.store.put(UserSettings(user_id=ALICE.sub, provider=provider))
    answers = [caller.post("/gmail/message", caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token))]
    use(services, provider, zoom, webex)
    for path, body in [
        ("/gmail/home", caller.event("GMAIL")),
        ("/calendar/home", caller.event("CALENDAR")),
        ("/gmail/message", caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token)),
        ("/actions/schedule-from-email", schedule_body(caller)),
        ("/calendar/event-open", event),
        ("/actions/add-meeting", event),
        ("/calendar/event-open", event),
        ("/actions/settings", caller.event("CALENDAR")),
    ]:
        answers.append(caller.post(path, body))
    google.edit_event(ALICE.email, EVENT_ID, {"summary": "Planning (moved)"})
    answers.append(caller.post("/actions/update-meeting", event))
    answers.append(caller.post("/actions/remove-meeting", event))

    assert all(answer.status_code == 200 for answer in answers), [a.get_data(as_text=True) for a in answers]
    link = services.store.get(MeetingLink, f"{ALICE.email}/{EVENT_ID}")
    scheduled = [lk for lk in services.store.with_prefix(MeetingLink, ALICE.email + "/", 10) if lk.join_url]
    join_urls = {lk.join_url for lk in scheduled}
    assert link is None and join_urls, "the meeting was removed, the scheduled one stays"
    # Each card was checked by the caller; these are the links it saw and Google would open.
    assert join_urls <= set(caller.links_seen)
    assert any(url.startswith(f"https://addon.test/connect/{provider}/start") for url in caller.links_seen) or (
        provider == "jitsi"
    )
    assert any(url.startswith("https://www.google.com/calendar/") for url in caller.links_seen)
    if provider == "zoom":
        assert all(url.startswith("https://acme.zoom.us/j/") for url in join_urls)


def test_another_vendors_conference_is_shown_but_linked_only_where_google_opens(
    caller: GoogleCaller, google: FakeGoogle
) -> None:
    add_event(google, conferenceData=TEAMS)

    response = caller.post("/calendar/event-open", caller.calendar_event(ALICE.email, EVENT_ID))

    (card,) = trigger_cards(response.get_json())
    text = card_text(card)
    assert "Microsoft Teams" in text and "teams.microsoft.com/l/meetup-join" in text  # readable, to copy
    assert 'href=\\"https://teams.microsoft.com' not in text
    assert 'href=\\"sip:' not in text and 'href=\\"http://' not in text
    assert caller.links_seen == ["tel:+41-44-000-0000"]


def test_a_service_outside_the_rendered_allowlist_would_fail_here_first(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    """The check has teeth: a join host the deployment lacks is refused before any user's sidebar sees it."""
    zoom.state.join_host = "zoom.example.net"
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)

    with pytest.raises(AssertionError, match="Google would not open"):
        caller.post("/actions/schedule-from-email", schedule_body(caller))


def test_cards_of_a_confirmation_open_calendar_on_googles_own_host(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "webex", zoom, webex)
    google.add_message(MESSAGE)

    (card,) = action_cards(caller.post("/actions/schedule-from-email", schedule_body(caller)).get_json())

    assert "Open in Calendar" in card_text(card)
    assert [url for url in caller.links_seen if ".webex.com/" in url], caller.links_seen
