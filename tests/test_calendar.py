"""Calendar: the homepage, an opened event, and a saved event, through the app and a fake Calendar API."""

from __future__ import annotations

import pytest

from addon import scopes
from tests.card_schema import action_cards, card_text, requested_scopes, trigger_cards
from tests.fakes.google import FakeGoogle
from tests.google_caller import ALICE, GoogleCaller

CALENDAR = ALICE.email
EVENT = {
    "id": "evt123",
    "summary": "Design review <draft>",
    "start": {"dateTime": "2026-11-23T14:00:00+01:00", "timeZone": "Europe/Zurich"},
    "end": {"dateTime": "2026-11-23T15:30:00+01:00", "timeZone": "Europe/Zurich"},
    "htmlLink": "https://www.google.com/calendar/event?eid=ZXZ0MTIz",
    "attendees": [{"email": "from-api@corp.example", "responseStatus": "accepted"}],
}
ATTENDEES = [
    {"email": ALICE.email, "organizer": True, "self": True, "responseStatus": "accepted"},
    {"email": "bob@corp.example", "displayName": "Bob Builder", "responseStatus": "declined"},
    {"email": "carol@partner.example", "responseStatus": "tentative", "optional": True},
    {"email": "dave@partner.example", "responseStatus": "needsAction"},
    {"email": "room-1@resource.calendar.google.com", "resource": True, "responseStatus": "accepted"},
]
MEET = {
    "conferenceId": "abc-defg-hij",
    "conferenceSolution": {"name": "Google Meet", "key": {"type": "hangoutsMeet"}},
    "entryPoints": [
        {
            "entryPointType": "video",
            "uri": "https://meet.google.com/abc-defg-hij",
            "label": "meet.google.com/abc-defg-hij",
        },
        {"entryPointType": "phone", "uri": "tel:+41-44-000-0000", "label": "+41 44 000 0000"},
    ],
}


def open_event(
    caller: GoogleCaller, google: FakeGoogle, path: str = "/calendar/event-open", **calendar: object
) -> dict:
    google.add_event(CALENDAR, EVENT)
    response = caller.post(path, caller.calendar_event(CALENDAR, EVENT["id"], **calendar))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_calendar_homepage(caller: GoogleCaller) -> None:
    (card,) = trigger_cards(caller.post("/calendar/home", caller.event("CALENDAR")).get_json())

    assert ALICE.email in card_text(card)
    assert "Open an event" in card_text(card)


def test_event_card_shows_title_time_in_the_users_zone_and_guests(caller: GoogleCaller, google: FakeGoogle) -> None:
    (card,) = trigger_cards(open_event(caller, google, attendees=ATTENDEES))
    text = card_text(card)

    assert card["header"]["title"] == "Design review <draft>"
    assert "Mon 23 Nov 2026, 14:00 – 15:30" in text
    assert "Europe/Zurich (UTC+01:00)" in text
    assert "Bob Builder" in text and "Declined" in text
    assert "carol@partner.example" in text and "Maybe" in text and "optional" in text
    assert "Awaiting reply" in text
    assert "room-1@resource" not in text  # rooms are not guests
    assert "Guests (4)" in text
    # A guest without a name is shown by address once, not as label and text both.
    assert text.count("carol@partner.example") == 1


def test_times_follow_the_users_zone_not_the_events(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_event(CALENDAR, EVENT)
    event = caller.calendar_event(CALENDAR, EVENT["id"])
    event["commonEventObject"]["timeZone"] = {"id": "America/New_York", "offset": -18000000}

    (card,) = trigger_cards(caller.post("/calendar/event-open", event).get_json())

    assert "Mon 23 Nov 2026, 08:00 – 09:30" in card_text(card)
    assert "America/New_York (UTC-05:00)" in card_text(card)


def test_event_title_is_escaped_where_html_is_rendered(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_event(CALENDAR, {**EVENT, "attendees": [{"email": "x@y.example", "displayName": "<b>Eve</b>"}]})

    (card,) = trigger_cards(
        caller.post("/calendar/event-open", caller.calendar_event(CALENDAR, EVENT["id"])).get_json()
    )

    assert "<b>Eve</b>" not in card_text(card)
    assert "&lt;b&gt;Eve&lt;/b&gt;" in card_text(card)


def test_guests_from_the_api_when_the_event_object_has_none(caller: GoogleCaller, google: FakeGoogle) -> None:
    (card,) = trigger_cards(open_event(caller, google))

    assert "from-api@corp.example" in card_text(card)


def test_hidden_guest_list_is_not_shown(caller: GoogleCaller, google: FakeGoogle) -> None:
    capabilities = {"canSeeAttendees": False, "canSeeConferenceData": False}

    (card,) = trigger_cards(open_event(caller, google, attendees=ATTENDEES, capabilities=capabilities))

    assert "bob@corp.example" not in card_text(card)
    assert "hidden" in card_text(card)


def test_existing_conference_is_shown(caller: GoogleCaller, google: FakeGoogle) -> None:
    (card,) = trigger_cards(open_event(caller, google, conferenceData=MEET))

    assert "Google Meet" in card_text(card)
    assert "https://meet.google.com/abc-defg-hij" in card_text(card)


def test_a_huge_guest_list_stays_within_googles_widget_limit(caller: GoogleCaller, google: FakeGoogle) -> None:
    crowd = [{"email": f"guest{i}@corp.example", "responseStatus": "needsAction"} for i in range(150)]

    (card,) = trigger_cards(open_event(caller, google, attendees=crowd))  # validates the 100-widget limit

    assert "guest0@corp.example" in card_text(card)
    assert "and 100 more" in card_text(card)


def test_a_conference_uri_that_is_not_a_web_or_phone_link_is_not_made_clickable(
    caller: GoogleCaller, google: FakeGoogle
) -> None:
    evil = {**MEET, "entryPoints": [{"entryPointType": "more", "uri": "javascript:alert(1)", "label": "Join"}]}

    (card,) = trigger_cards(open_event(caller, google, conferenceData=evil))

    assert "href" not in card_text(card)


def test_conference_is_hidden_without_the_capability(caller: GoogleCaller, google: FakeGoogle) -> None:
    capabilities = {"canSeeAttendees": True, "canSeeConferenceData": False}

    (card,) = trigger_cards(open_event(caller, google, conferenceData=MEET, capabilities=capabilities))

    assert "meet.google.com" not in card_text(card)


def test_unsaved_new_event_says_to_save_first(caller: GoogleCaller, google: FakeGoogle) -> None:
    event = caller.calendar_event(CALENDAR, None, attendees=ATTENDEES[:2])

    (card,) = trigger_cards(caller.post("/calendar/event-open", event).get_json())

    assert "Save the event first" in card_text(card)
    assert google.requests_to("/calendar/") == []


@pytest.mark.parametrize("how", ["404", "410", "cancelled"])
def test_deleted_event_gets_a_card_that_says_so(caller: GoogleCaller, google: FakeGoogle, how: str) -> None:
    if how == "cancelled":
        google.add_event(CALENDAR, {"id": "gone", "status": "cancelled"})
    elif how == "410":
        google.fail("/calendar/", 410)

    response = caller.post("/calendar/event-open", caller.calendar_event(CALENDAR, "gone"))

    (card,) = trigger_cards(response.get_json())
    assert "no longer exists" in card_text(card)


def test_event_is_read_with_the_users_token(caller: GoogleCaller, google: FakeGoogle) -> None:
    open_event(caller, google)

    (request,) = google.requests_to("/calendar/")
    assert request.path == f"/calendar/v3/calendars/{CALENDAR}/events/{EVENT['id']}"
    assert request.headers["Authorization"] == f"Bearer {ALICE.oauth_token}"


def test_saved_event_answers_with_an_updated_card(caller: GoogleCaller, google: FakeGoogle) -> None:
    body = open_event(caller, google, path="/calendar/event-update", attendees=ATTENDEES)

    (card,) = action_cards(body)
    assert card["header"]["title"] == "Design review <draft>"


def test_missing_calendar_scope_is_requested(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_event(CALENDAR, EVENT)
    event = caller.calendar_event(CALENDAR, EVENT["id"])
    event["authorizationEventObject"]["authorizedScopes"] = sorted(scopes.ALL - {scopes.CALENDAR_EVENTS})

    response = caller.post("/calendar/event-open", event)

    assert requested_scopes(response.get_json()) == {scopes.CALENDAR_EVENTS}
    assert google.requests_to("/calendar/") == []


def test_all_day_event(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_event(CALENDAR, {**EVENT, "start": {"date": "2026-12-24"}, "end": {"date": "2026-12-25"}})

    (card,) = trigger_cards(
        caller.post("/calendar/event-open", caller.calendar_event(CALENDAR, EVENT["id"])).get_json()
    )

    assert "Thu 24 Dec 2026, all day" in card_text(card)
