"""Scheduling through the real app: from an email's form, and on an open event; each meeting exactly once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from addon.__main__ import main
from addon.join_details import BLOCK_START, MEETING_PROPERTY
from addon.services import Services
from addon.store import AuditRecord, MeetingLink
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.google import FakeGoogle
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.scenarios import (
    EVENT_ID,
    MESSAGE,
    START,
    arrange_event,
    event_action,
    inserted_events,
    notification,
    schedule_body,
    stored_event,
    use,
)

# From Gmail --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["jitsi", "zoom", "webex"])
def test_scheduling_from_an_email_makes_a_meeting_and_an_event_with_its_join_link(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    use(services, provider, zoom, webex)
    google.add_message(MESSAGE)

    response = caller.post("/actions/schedule-from-email", schedule_body(caller))

    assert response.status_code == 200, response.get_data(as_text=True)
    (card,) = action_cards(response.get_json())
    assert "Meeting scheduled" in card_text(card) and "Open in Calendar" in card_text(card)
    assert "scheduled and added to your calendar" in notification(response)
    (event,) = inserted_events(google)
    join_url = event["location"]
    assert join_url in card_text(card)
    assert event["summary"] == "Launch plan"
    assert [a["email"] for a in event["attendees"]] == ["jane@partner.example", "bob@corp.example"]
    assert datetime.fromisoformat(event["start"]["dateTime"]) == START
    assert event["start"]["timeZone"] == "Europe/Zurich"
    assert datetime.fromisoformat(event["end"]["dateTime"]) - START == timedelta(minutes=45)
    assert event["description"].count(BLOCK_START) == 1 and join_url in event["description"]
    # The inserts themselves (a refused conference is sent again without it): the calendar's first
    # background sync reads the same path, at its own time.
    inserts = [r for r in google.requests_to(f"/calendar/v3/calendars/{ALICE.email}/events") if r.method == "POST"]
    assert inserts and all(insert.args["sendUpdates"] == "all" for insert in inserts)
    if provider != "jitsi":
        fake = {"zoom": zoom, "webex": webex}[provider]
        (meeting,) = fake.meetings.values()
        assert meeting.starts_at == START.astimezone(UTC)


def test_the_same_form_sent_twice_makes_one_meeting_and_one_event(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)
    body = schedule_body(caller)

    first = caller.post("/actions/schedule-from-email", body)
    second = caller.post("/actions/schedule-from-email", body)

    assert first.status_code == second.status_code == 200
    assert len(inserted_events(google)) == 1
    assert len(zoom.meetings) == 1
    assert "Meeting scheduled" in card_text(action_cards(second.get_json())[0])


def test_a_click_sent_again_after_its_answer_was_lost_makes_no_second_event_or_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)
    body = schedule_body(caller)
    caller.post("/actions/schedule-from-email", body)  # its answer never reached the sidebar

    again = caller.post("/actions/schedule-from-email", body)

    assert again.status_code == 200
    assert len(inserted_events(google)) == 1
    assert len(zoom.meetings) == 1


@pytest.mark.parametrize("provider", ["zoom", "webex"])
def test_a_first_attempt_makes_its_meeting_without_looking_for_an_earlier_one(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    """The claim says this is the first attempt: no listing of the user's meetings before the create."""
    use(services, provider, zoom, webex)
    google.add_message(MESSAGE)

    assert caller.post("/actions/schedule-from-email", schedule_body(caller)).status_code == 200

    listings = zoom.requests_to("GET", "/v2/users/me/meetings") + webex.requests_to("GET", "/v1/meetings")
    assert listings == []
    assert len({"zoom": zoom, "webex": webex}[provider].meetings) == 1


@pytest.mark.parametrize("provider", ["zoom", "webex"])
def test_a_create_whose_answer_was_lost_is_found_by_the_next_attempt_not_made_twice(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    use(services, provider, zoom, webex)
    google.add_message(MESSAGE)
    fake = {"zoom": zoom, "webex": webex}[provider]
    path = "/v2/users/me/meetings" if provider == "zoom" else "/v1/meetings"
    # The create lands, its answer is lost, and the lookup right after does not see it yet.
    fake.fail(path, 504, times=1, method="POST", applied=True)
    fake.fail(path, 503, times=3, method="GET")
    body = schedule_body(caller)

    first = caller.post("/actions/schedule-from-email", body)
    (kept,) = [link for link in services.store.with_prefix(MeetingLink, ALICE.email + "/") if link.create_uncertain]
    again = caller.post("/actions/schedule-from-email", body)

    assert first.status_code == again.status_code == 200
    assert kept.meeting_id is None  # the first attempt never learnt the meeting's id
    assert len(fake.meetings) == 1  # the second attempt looked, found it, and used it
    (event,) = inserted_events(google)
    assert (event.get("extendedProperties") or {}).get("private", {}).get(MEETING_PROPERTY) in fake.meetings


@pytest.mark.parametrize(
    ("inputs", "field_text"),
    [
        ({"participants": []}, "Choose at least one person to invite."),
        ({"start": datetime.now(UTC) - timedelta(hours=2)}, "That time has passed."),
        ({"duration": ["2"]}, "Choose a length between"),
    ],
    ids=["nobody-chosen", "start-in-the-past", "too-short"],
)
def test_a_form_that_cannot_be_scheduled_comes_back_filled_in_with_the_reason(
    caller: GoogleCaller, google: FakeGoogle, inputs: dict[str, Any], field_text: str
) -> None:
    google.add_message(MESSAGE)

    response = caller.post("/actions/schedule-from-email", schedule_body(caller, title=["My own title"], **inputs))

    assert response.status_code == 200
    (card,) = action_cards(response.get_json())
    assert field_text in card_text(card)
    title = next(
        w["textInput"] for s in card["sections"] for w in s["widgets"] if w.get("textInput", {}).get("name") == "title"
    )
    assert title["value"] == "My own title"
    assert inserted_events(google) == []


def test_a_cleared_start_comes_back_as_the_form_asking_for_one(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(MESSAGE)
    body = schedule_body(caller, title=["My own title"])
    del body["commonEventObject"]["formInputs"]["start"]

    response = caller.post("/actions/schedule-from-email", body)

    assert response.status_code == 200
    (card,) = action_cards(response.get_json())
    assert "Choose when the meeting starts." in card_text(card) and "My own title" in json.dumps(card)
    assert inserted_events(google) == []


def test_a_meeting_the_service_refuses_comes_back_with_its_reason(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)
    zoom.fail("/v2/users/me/meetings", 400, body={"code": 300, "message": "Invalid field."}, method="POST")

    response = caller.post("/actions/schedule-from-email", schedule_body(caller))

    assert "Zoom said: Invalid field." in card_text(action_cards(response.get_json())[0])
    assert inserted_events(google) == []
    assert services.store.get(MeetingLink, "anything") is None


def test_calendar_failing_after_the_meeting_was_made_leaves_no_orphan(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)
    google.fail(f"/calendar/v3/calendars/{ALICE.email}/events", 500, times=10, method="POST")

    response = caller.post("/actions/schedule-from-email", schedule_body(caller))

    assert response.status_code == 200
    assert "could not be added to Google Calendar" in card_text(action_cards(response.get_json())[0])
    assert zoom.meetings == {}  # the meeting was deleted again
    assert inserted_events(google) == []


def test_without_the_calendar_scope_the_user_is_asked_for_it(caller: GoogleCaller, google: FakeGoogle) -> None:
    from addon import scopes

    google.add_message(MESSAGE)
    body = schedule_body(caller)
    body["authorizationEventObject"]["authorizedScopes"] = sorted(scopes.ALL - {scopes.CALENDAR_EVENTS})

    response = caller.post("/actions/schedule-from-email", body)

    assert response.get_json() == {"requesting_google_scopes": {"scopes": [scopes.CALENDAR_EVENTS]}}


# In Calendar --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["jitsi", "zoom", "webex"])
def test_adding_a_meeting_writes_its_join_details_onto_the_event(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    use(services, provider, zoom, webex)
    arrange_event(google)
    (offer,) = trigger_cards(event_action(caller, "/calendar/event-open").get_json())
    assert "Add " in card_text(offer) and " meeting" in card_text(offer)

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    (card,) = action_cards(response.get_json())
    event = stored_event(google)
    assert event["location"].startswith("https://")
    assert event["description"].startswith("Agenda: numbers.")
    assert event["description"].count(BLOCK_START) == 1
    assert event["extendedProperties"]["private"][MEETING_PROPERTY]
    assert "Join" in card_text(card) and "Remove meeting" in card_text(card)
    assert "meeting added to the event" in notification(response)
    if provider != "jitsi":
        (meeting,) = {"zoom": zoom, "webex": webex}[provider].meetings.values()
        assert meeting.starts_at == START.astimezone(UTC)


def test_twenty_concurrent_add_requests_make_one_meeting(
    app: Flask, caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.state.addon_conferences = "accept"  # one write per add, so writes can be counted
    body = caller.calendar_event(ALICE.email, EVENT_ID)
    token = caller.system_token("/actions/add-meeting")
    start = threading.Barrier(20)
    statuses: list[int] = []

    def click() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/actions/add-meeting", json=body, headers={"Authorization": f"Bearer {token}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 20
    assert len(zoom.meetings) == 1
    # Zoom is asked once, and the guests are sent one update, not twenty.
    # The one request that won the claim made the first attempt: it looked for no earlier meeting.
    assert zoom.requests_to("GET", "/v2/users/me/meetings") == []
    assert len(zoom.requests_to("POST", "/v2/users/me/meetings")) == 1
    patches = [r for r in google.requests_to(f"/calendar/v3/calendars/{ALICE.email}/events/") if r.method == "PATCH"]
    # One write the guests are told of; then, after the answer, the video system's address without an email.
    assert [r.args["sendUpdates"] for r in patches] == ["all", "none"]
    assert "Video system:" in stored_event(google)["description"]
    assert stored_event(google)["description"].count(BLOCK_START) == 1


def test_calendar_refusing_the_write_deletes_the_meeting_again(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.fail(f"/calendar/v3/calendars/{ALICE.email}/events/{EVENT_ID}", 503, times=10, method="PATCH")

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    assert "could not be added to Google Calendar" in notification(response)
    assert zoom.meetings == {}
    assert services.store.get(MeetingLink, f"{ALICE.email}/{EVENT_ID}") is None
    assert BLOCK_START not in stored_event(google).get("description", "")


@pytest.mark.parametrize("calendar_status", [403, 503])
def test_when_calendar_refuses_and_the_delete_fails_too_the_card_says_the_meeting_is_kept(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    calendar_status: int,
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.fail(f"/calendar/v3/calendars/{ALICE.email}/events/{EVENT_ID}", calendar_status, times=10, method="PATCH")
    zoom.fail("/v2/meetings/", 500, times=10, method="DELETE")

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    assert "The meeting is kept for your next try" in notification(response)
    (meeting,) = zoom.meetings.values()
    link = services.store.get(MeetingLink, f"{ALICE.email}/{EVENT_ID}")
    assert link is not None and link.meeting_id == str(meeting.data["id"]) and link.claim is None


def test_when_calendar_stops_answering_the_card_still_says_the_meeting_is_kept(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_path = f"/calendar/v3/calendars/{ALICE.email}/events/{EVENT_ID}"
    # Every try of the write fails; then (failures of one path come in turn) every read after it: the
    # read that would confirm the write, and the card's own read of the event.
    google.fail(event_path, 503, times=services.google.retries + 1, method="PATCH")
    google.fail(event_path, 503, times=100, method="GET")

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    assert "The meeting is kept" in notification(response)
    (card,) = action_cards(response.get_json())
    assert "The event could not be shown" in card_text(card)
    assert "Nothing was changed" not in card_text(card)
    assert len(zoom.meetings) == 1


def test_removing_deletes_the_meeting_and_leaves_what_the_user_wrote(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")

    response = event_action(caller, "/actions/remove-meeting")

    assert response.status_code == 200
    event = stored_event(google)
    assert event["description"] == "Agenda: numbers."
    assert event.get("location", "") == ""
    assert MEETING_PROPERTY not in event.get("extendedProperties", {}).get("private", {})
    assert zoom.meetings == {}
    assert "Add Zoom meeting" in card_text(action_cards(response.get_json())[0])


def test_adding_again_after_removing_keeps_a_single_block_of_details(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    event_action(caller, "/actions/remove-meeting")
    event_action(caller, "/actions/add-meeting")

    assert stored_event(google)["description"].count(BLOCK_START) == 1
    assert len(zoom.meetings) == 1


def test_a_moved_event_offers_to_update_its_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    later = START + timedelta(hours=2)
    stored_event(google)["start"] = {"dateTime": later.isoformat(), "timeZone": "Europe/Zurich"}
    stored_event(google)["end"] = {"dateTime": (later + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Zurich"}

    (card,) = trigger_cards(event_action(caller, "/calendar/event-open").get_json())
    assert "Update meeting" in card_text(card)
    response = event_action(caller, "/actions/update-meeting")

    assert "meeting updated" in notification(response)
    (meeting,) = zoom.meetings.values()
    assert meeting.starts_at == later.astimezone(UTC)
    (after,) = trigger_cards(event_action(caller, "/calendar/event-open").get_json())
    assert "Update meeting" not in card_text(after)


def test_an_instance_of_a_series_gets_the_series_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google, recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10"])
    google.add_event(
        ALICE.email,
        {**stored_event(google), "id": f"{EVENT_ID}_20261130T140000Z", "recurringEventId": EVENT_ID},
    )

    response = caller.post("/actions/add-meeting", caller.calendar_event(ALICE.email, f"{EVENT_ID}_20261130T140000Z"))

    assert response.status_code == 200
    assert BLOCK_START in stored_event(google)["description"]  # written on the series itself
    (meeting,) = zoom.meetings.values()
    assert meeting.data["type"] == 8  # a recurring Zoom meeting
    (card,) = action_cards(response.get_json())
    assert "Moving or cancelling one occurrence in Calendar changes just that occurrence on Zoom" in card_text(card)


@pytest.mark.parametrize(
    ("provider", "rule", "note"),
    [
        ("zoom", "RRULE:FREQ=YEARLY;COUNT=5", "Zoom cannot repeat a meeting the way this event repeats"),
        ("jitsi", "RRULE:FREQ=WEEKLY;COUNT=5", "Every occurrence uses this one Jitsi Meet room"),
    ],
)
def test_a_series_the_service_cannot_split_into_occurrences_says_so_on_the_card(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    provider: str,
    rule: str,
    note: str,
) -> None:
    use(services, provider, zoom, webex)
    arrange_event(google, recurrence=[rule])

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    (card,) = action_cards(response.get_json())
    assert note in card_text(card)
    assert stored_event(google)["location"].startswith("https://")


def test_where_calendar_takes_third_party_conferences_the_meeting_is_one(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.state.addon_conferences = "accept"

    event_action(caller, "/actions/add-meeting")

    conference = stored_event(google)["conferenceData"]
    assert conference["conferenceSolution"]["name"] == "Zoom"
    assert conference["entryPoints"][0]["uri"] == stored_event(google)["location"]


def test_an_all_day_event_says_it_needs_a_time(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_event(
        ALICE.email,
        {"id": EVENT_ID, "summary": "Offsite", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}},
    )

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    assert "All-day events have no meeting time" in notification(response)


def test_every_meeting_change_is_audited_and_listed_for_the_user(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    event_action(caller, "/actions/remove-meeting")

    records = services.store.with_prefix(AuditRecord, ALICE.email + "/")
    assert [(r.action, r.outcome) for r in records] == [("create", "ok"), ("delete", "ok")]
    assert all(r.event == f"{ALICE.email}/{EVENT_ID}" and r.provider == "zoom" for r in records)
    monkeypatch.setenv("ADDON_STORE", settings.store)
    capsys.readouterr()

    assert main(["audit", "--user", ALICE.email.upper()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "create" in lines[0] and records[0].meeting_id in lines[0]
    assert "delete" in lines[1]


def test_an_audit_record_the_store_refuses_at_first_is_stored_on_a_later_try(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    real_put = services.store.put
    refused: list[str] = []

    def put_refusing_audit_once(record: Any) -> None:
        if isinstance(record, AuditRecord) and not refused:
            refused.append(record.audit_id)
            raise RuntimeError("datastore deadline exceeded")
        real_put(record)

    services.store.put = put_refusing_audit_once  # type: ignore[method-assign]

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    (record,) = services.store.with_prefix(AuditRecord, ALICE.email + "/")
    assert (record.action, record.outcome) == ("create", "ok") and refused == [record.audit_id]


# Failure paths found in review ----------------------------------------------------------------


def test_a_lost_answer_from_calendar_keeps_the_event_and_its_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)
    google.state.addon_conferences = "accept"
    # Calendar creates the event but every answer is lost, retries included.
    google.fail(f"/calendar/v3/calendars/{ALICE.email}/events", 503, times=3, method="POST", applied=True)

    response = caller.post("/actions/schedule-from-email", schedule_body(caller))

    assert "Meeting scheduled" in card_text(action_cards(response.get_json())[0])
    (event,) = inserted_events(google)
    (meeting,) = zoom.meetings.values()
    assert event["extendedProperties"]["private"][MEETING_PROPERTY] == str(meeting.data["id"])


def test_a_meeting_made_by_a_request_that_died_is_reused_not_made_again(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    key = f"{ALICE.email}/{EVENT_ID}"
    meeting = services.meetings.provider(ALICE.sub, "zoom").create(MeetingSpecFor(START), "made-before-the-crash")
    services.store.put(
        MeetingLink(
            link_id=key,
            user_id=ALICE.sub,
            provider="zoom",
            state="created",
            meeting_id=meeting.meeting_id,
            join_url=meeting.join_url,
            claim="dead",
            claimed_at=datetime.now(UTC) - timedelta(minutes=5),
        )
    )

    response = event_action(caller, "/actions/add-meeting")

    assert "meeting added" in notification(response)
    assert list(zoom.meetings) == [meeting.meeting_id]
    assert stored_event(google)["location"] == meeting.join_url


def MeetingSpecFor(start: datetime) -> Any:
    from addon.meetings.model import MeetingSpec

    return MeetingSpec("Quarterly review", start, start + timedelta(hours=1), "Europe/Zurich")


def test_only_the_owner_may_remove_a_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    from tests.google_caller import TestUser

    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    bob = TestUser(sub="200000000000000000002", email="bob@corp.example", oauth_token="ya29.bob-token")
    body = caller.calendar_event(ALICE.email, EVENT_ID)
    body["authorizationEventObject"]["userIdToken"] = caller.user_token(bob)
    body["authorizationEventObject"]["userOAuthToken"] = bob.oauth_token
    google.add_user_token(bob.oauth_token)

    response = caller.post("/actions/remove-meeting", body)

    assert f"belongs to {ALICE.email}" in notification(response)
    assert len(zoom.meetings) == 1
    assert BLOCK_START in stored_event(google)["description"]


def test_when_calendar_cannot_be_cleared_the_meeting_is_kept(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    google.fail(f"/calendar/v3/calendars/{ALICE.email}/events/{EVENT_ID}", 403, times=1, method="PATCH")

    response = event_action(caller, "/actions/remove-meeting")

    assert "meeting was kept" in notification(response)
    assert len(zoom.meetings) == 1
    assert services.store.get(MeetingLink, f"{ALICE.email}/{EVENT_ID}") is not None


def test_a_room_in_the_location_and_a_long_agenda_are_kept(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    agenda = "Agenda: " + "numbers " * 990
    arrange_event(google, location="Room 4.12, HQ", description=agenda)

    event_action(caller, "/actions/add-meeting")
    added = dict(stored_event(google))
    event_action(caller, "/actions/remove-meeting")

    assert added["location"] == "Room 4.12, HQ"
    assert added["description"].startswith(agenda.rstrip())
    assert stored_event(google)["location"] == "Room 4.12, HQ"
    assert stored_event(google)["description"] == agenda.rstrip()


def test_an_event_without_length_says_so_and_leaves_nothing_behind(
    caller: GoogleCaller, google: FakeGoogle, services: Services
) -> None:
    arrange_event(google, end={"dateTime": START.isoformat(), "timeZone": "Europe/Zurich"})

    first = event_action(caller, "/actions/add-meeting")
    second = event_action(caller, "/actions/add-meeting")

    assert "ends when it starts" in notification(first) and "ends when it starts" in notification(second)
    assert services.store.get(MeetingLink, f"{ALICE.email}/{EVENT_ID}") is None


def test_an_email_with_nobody_else_on_it_can_still_be_scheduled(
    caller: GoogleCaller, google: FakeGoogle, services: Services
) -> None:
    google.add_message(MESSAGE)
    body = schedule_body(caller, participants=[])
    body["commonEventObject"]["parameters"] = {"participants_offered": "no"}

    response = caller.post("/actions/schedule-from-email", body)

    assert "Meeting scheduled" in card_text(action_cards(response.get_json())[0])
    (event,) = inserted_events(google)
    assert event["attendees"] == []


@pytest.mark.parametrize("mode", ["accept", "refuse", "drop"])
def test_an_email_scheduled_whatever_calendar_does_with_the_conference_carries_its_join_details(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, mode: str
) -> None:
    use(services, "webex", zoom, webex)
    google.add_message(MESSAGE)
    google.state.addon_conferences = mode

    response = caller.post("/actions/schedule-from-email", schedule_body(caller))

    (card,) = action_cards(response.get_json())
    (event,) = inserted_events(google)
    join_url = event["location"]
    assert join_url.startswith("https://") and join_url in card_text(card)
    assert event["description"].count(BLOCK_START) == 1 and join_url in event["description"]
    assert ("conferenceData" in event) is (mode == "accept")
    inserts = [r for r in google.requests_to(f"/calendar/v3/calendars/{ALICE.email}/events") if r.method == "POST"]
    assert len(inserts) == (2 if mode == "refuse" else 1)  # a refusal is written again without the conference
    assert services.conference_support.accepted is (mode == "accept")
