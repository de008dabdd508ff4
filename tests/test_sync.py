"""Meetings follow their events while the user is away: Calendar pushes a change to the running app, the app
reads it with its sync token as the domain's service account, and the meeting service ends up matching.

Each test edits the event as the user would in Calendar (the fake then notifies the app over HTTP) and
ends by checking the meeting service's own state, so no orphan or stale meeting can hide.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addon.google.delegation import OfflineAccess
from addon.google.runtime import RuntimeIdentity
from addon.join_details import BLOCK_START, EVENT_PROPERTY, MEETING_PROPERTY
from addon.services import Services
from addon.settings import Settings
from addon.store import AuditRecord, CalendarSync, DomainPolicy, MeetingLink, PendingDeletion, ProviderGrant
from addon.sync import CalendarSyncer
from addon.tasks import CloudTasks
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.google import FakeGoogle
from tests.fakes.http_server import WsgiServer
from tests.fakes.identity import system_claims
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.scenarios import (
    CALENDAR,
    EVENT_ID,
    KEY,
    START,
    arrange_event,
    event_action,
    meeting_on_event,
    service,
    settle,
    the_meeting,
    times,
    use,
)

SERVICES = ["zoom", "webex"]


@pytest.fixture
def settings(settings: Settings, google: FakeGoogle, tmp_path: Any) -> Settings:
    """Background sync on: a service account key the admin delegated calendar.events to."""
    key_file = google.service_account_key_file(tmp_path)
    google.state.delegation_users = {ALICE.email}
    return dataclasses.replace(settings, sync_credentials=str(key_file), sync_delete_grace_seconds=0)


@pytest.fixture(autouse=True)
def served(app: Flask, google: FakeGoogle) -> Iterator[str]:
    """The app on a real HTTP server, where the fake Calendar delivers its push notifications."""
    server = WsgiServer(app)
    server.start()
    google.push_target = f"http://127.0.0.1:{server.server_port}"
    yield google.push_target
    server.stop()


def guests_of(provider: str, meeting: Any) -> set[str]:
    if provider == "webex":
        return {invitee["email"] for invitee in meeting.invitees}
    return {invitee["email"] for invitee in meeting.data["settings"]["meeting_invitees"]}


def buttons_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        button
        for section in card.get("sections", [])
        for widget in section.get("widgets", [])
        for button in widget.get("buttonList", {}).get("buttons", [])
    ]


def audit_outcomes(services: Services) -> list[str]:
    return [f"{r.action}: {r.outcome}" for r in services.store.with_prefix(AuditRecord, ALICE.email + "/")]


# Complaint 1: Calendar edits never reach the meeting ------------------------------------------


@pytest.mark.parametrize("provider", SERVICES)
def test_moving_the_event_moves_the_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex)
    later = START + timedelta(days=1, hours=2)

    google.edit_event(CALENDAR, EVENT_ID, times(later, timedelta(minutes=90)))
    settle(google, services)

    meeting = the_meeting(provider, zoom, webex)
    assert meeting.starts_at == later.astimezone(UTC)
    assert "update: followed the event in Calendar" in audit_outcomes(services)
    # Nothing left to update by hand.
    (card,) = trigger_cards(event_action(caller, "/calendar/event-open").get_json())
    assert "Update meeting" not in card_text(card)
    assert "Automatic" in card_text(card)


@pytest.mark.parametrize("provider", SERVICES)
def test_renaming_the_event_renames_the_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex)

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Quarterly review (moved to Q3 numbers)"})
    settle(google, services)

    meeting = the_meeting(provider, zoom, webex)
    title = meeting.data["topic"] if provider == "zoom" else meeting.data["title"]
    assert title == "Quarterly review (moved to Q3 numbers)"


@pytest.mark.parametrize("provider", SERVICES)
def test_guests_added_and_removed_in_calendar_become_the_meetings_invitees(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex)
    assert guests_of(provider, the_meeting(provider, zoom, webex)) == {"bob@corp.example"}

    google.edit_event(
        CALENDAR,
        EVENT_ID,
        {"attendees": [{"email": ALICE.email, "self": True, "organizer": True}, {"email": "carol@corp.example"}]},
    )
    settle(google, services)

    assert guests_of(provider, the_meeting(provider, zoom, webex)) == {"carol@corp.example"}


@pytest.mark.parametrize("provider", SERVICES)
def test_a_removed_guest_gets_a_new_passcode_to_keep_out_when_the_policy_asks(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    services.store.put(DomainPolicy(domain="corp.example", rotate_passcode_on_removal=True))
    meeting_on_event(caller, google, services, provider, zoom, webex)
    old_passcode = the_meeting(provider, zoom, webex).data["password"]

    google.edit_event(CALENDAR, EVENT_ID, {"attendees": [{"email": ALICE.email, "self": True, "organizer": True}]})
    settle(google, services)

    new_passcode = the_meeting(provider, zoom, webex).data["password"]
    assert new_passcode and new_passcode != old_passcode
    event = google.event(CALENDAR, EVENT_ID)
    assert event is not None
    assert f"Passcode: {new_passcode}" in event["description"]
    assert event["description"].count(BLOCK_START) == 1
    patches = [
        r for r in google.requests_to(f"/calendar/v3/calendars/{CALENDAR}/events/{EVENT_ID}") if r.method == "PATCH"
    ]
    assert patches[-1].args["sendUpdates"] == "all"  # the remaining guests get the new passcode


# Complaint 3: deleted events leave live meetings ------------------------------------------------


@pytest.mark.parametrize("provider", SERVICES)
def test_deleting_the_event_deletes_the_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex)

    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)

    assert service(provider, zoom, webex).meetings == {}
    assert services.store.get(MeetingLink, KEY) is None
    assert "delete: event deleted in Calendar" in audit_outcomes(services)


def test_a_deleted_event_keeps_its_meeting_through_the_grace_period_and_an_undo(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Settings,
    syncer: CalendarSyncer,
) -> None:
    services.settings = dataclasses.replace(settings, sync_delete_grace_seconds=3600)
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    kept = dict(google.event(CALENDAR, EVENT_ID) or {})

    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)
    assert len(zoom.meetings) == 1  # not yet: the user may undo

    google.add_event(CALENDAR, kept)  # Calendar's Undo
    settle(google, services)
    services.settings = dataclasses.replace(settings, sync_delete_grace_seconds=0)
    syncer.sweep_deletions(now=datetime.now(UTC) + timedelta(hours=2))

    assert len(zoom.meetings) == 1
    assert services.store.get(MeetingLink, KEY) is not None


def test_a_deleted_event_loses_its_meeting_when_the_grace_period_ends(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Settings,
    syncer: CalendarSyncer,
) -> None:
    services.settings = dataclasses.replace(settings, sync_delete_grace_seconds=3600)
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)

    assert syncer.sweep_deletions() == 0  # still within the grace period
    assert syncer.sweep_deletions(now=datetime.now(UTC) + timedelta(hours=2)) == 1

    assert zoom.meetings == {}
    assert services.store.get(MeetingLink, KEY) is None


def test_an_event_moved_to_another_calendar_takes_its_meeting_along(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Settings,
    syncer: CalendarSyncer,
) -> None:
    services.settings = dataclasses.replace(settings, sync_delete_grace_seconds=3600)
    link = meeting_on_event(caller, google, services, "zoom", zoom, webex)
    team = "team-calendar@group.calendar.google.com"
    syncer.track(ALICE.sub, ALICE.email, team, None)
    settle(google, services)

    google.move_event(CALENDAR, EVENT_ID, team)
    settle(google, services)
    syncer.sweep_deletions(now=datetime.now(UTC) + timedelta(hours=2))

    assert len(zoom.meetings) == 1
    moved = services.store.get(MeetingLink, f"{team}/{EVENT_ID}")
    assert moved is not None and moved.meeting_id == link.meeting_id and moved.calendar_id == team
    assert services.store.get(MeetingLink, KEY) is None
    event = google.event(team, EVENT_ID)
    assert event is not None
    assert event["extendedProperties"]["private"][EVENT_PROPERTY] == f"{team}/{EVENT_ID}"


# Complaint 2: copies that duplicate or share meetings -------------------------------------------


def test_a_duplicated_event_does_not_share_the_meeting_of_its_original(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    link = meeting_on_event(caller, google, services, "zoom", zoom, webex)

    copy_id = google.copy_event(CALENDAR, EVENT_ID)
    settle(google, services)

    copy = google.event(CALENDAR, copy_id)
    assert copy is not None
    assert link.join_url not in copy.get("description", "") and copy.get("location", "") != link.join_url
    assert not (copy.get("extendedProperties", {}).get("private") or {}).get(MEETING_PROPERTY)
    original = google.event(CALENDAR, EVENT_ID)
    assert original is not None and link.join_url in original["description"]
    assert len(zoom.meetings) == 1  # no meeting made behind the user's back
    assert services.store.get(MeetingLink, KEY) is not None


def test_with_the_policy_a_duplicated_event_gets_a_meeting_of_its_own(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    services.store.put(DomainPolicy(domain="corp.example", copied_events="new"))
    link = meeting_on_event(caller, google, services, "zoom", zoom, webex)

    copy_id = google.copy_event(CALENDAR, EVENT_ID)
    settle(google, services)

    copied = services.store.get(MeetingLink, f"{CALENDAR}/{copy_id}")
    assert copied is not None and copied.meeting_id != link.meeting_id
    assert sorted(zoom.meetings) == sorted([link.meeting_id, copied.meeting_id])
    copy = google.event(CALENDAR, copy_id)
    assert copy is not None and copied.join_url in copy["description"] and link.join_url not in copy["description"]
    assert copy["description"].count(BLOCK_START) == 1


# Recurring series -----------------------------------------------------------------------------

WEEKLY = {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5"]}


def occurrence(week: int) -> datetime:
    return START + timedelta(weeks=week)


@pytest.mark.parametrize("provider", SERVICES)
def test_moving_one_occurrence_moves_only_that_occurrence(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex, **WEEKLY)
    second = occurrence(1)
    moved_to = second + timedelta(hours=3)

    google.edit_occurrence(CALENDAR, EVENT_ID, second.isoformat(), times(moved_to, timedelta(hours=1)))
    settle(google, services)

    starts = occurrence_starts(provider, zoom, webex)
    assert moved_to.astimezone(UTC) in starts and second.astimezone(UTC) not in starts
    assert occurrence(2).astimezone(UTC) in starts and len(starts) == 5


@pytest.mark.parametrize("provider", SERVICES)
def test_cancelling_one_occurrence_cancels_only_that_occurrence(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex, **WEEKLY)

    google.cancel_occurrence(CALENDAR, EVENT_ID, occurrence(3).isoformat())
    settle(google, services)

    starts = occurrence_starts(provider, zoom, webex)
    assert occurrence(3).astimezone(UTC) not in starts and len(starts) == 4
    assert len(service(provider, zoom, webex).meetings) == 1  # the series itself lives on


@pytest.mark.parametrize("provider", SERVICES)
def test_changing_the_whole_series_changes_the_series_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, provider: str
) -> None:
    meeting_on_event(caller, google, services, provider, zoom, webex, **WEEKLY)

    google.edit_event(CALENDAR, EVENT_ID, {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"], "summary": "Weekly review"})
    settle(google, services)

    assert len(occurrence_starts(provider, zoom, webex)) == 3
    meeting = the_meeting(provider, zoom, webex)
    assert (meeting.data["topic"] if provider == "zoom" else meeting.data["title"]) == "Weekly review"


def occurrence_starts(provider: str, zoom: FakeZoom, webex: FakeWebex) -> set[datetime]:
    """When the service will hold each occurrence that is still on."""
    meeting_id = the_meeting(provider, zoom, webex).data["id"]
    if provider == "zoom":
        listed = [o["start_time"] for o in zoom.occurrences(str(meeting_id)) if o.get("status") != "deleted"]
    else:
        listed = [o["start"] for o in webex.occurrences(meeting_id)]
    return {datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC) for start in listed}


# Revoked access --------------------------------------------------------------------------------


def test_a_revoked_meeting_service_grant_pauses_sync_without_deleting_anything_and_reconnecting_catches_up(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    syncer: CalendarSyncer,
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    zoom.revoke_user("alice@corp.example")

    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)

    assert len(zoom.meetings) == 1  # an auth error deletes nothing
    assert services.store.get(MeetingLink, KEY) is not None
    record = services.store.get(CalendarSync, CalendarSync.id_for(ALICE.sub, CALENDAR))
    assert record is not None and record.suspended == "zoom"
    (home,) = trigger_cards(caller.post("/calendar/home", caller.event("CALENDAR")).get_json())
    assert "Paused: Zoom refused access" in card_text(home)
    (reconnect,) = [b for b in buttons_of(home) if b["text"] == "Reconnect Zoom"]
    assert "/connect/zoom/start?ticket=" in reconnect["onClick"]["openLink"]["url"]

    # Alice reconnects; the deletion she made meanwhile now reaches Zoom.
    use(services, "zoom", zoom, webex)
    syncer.resume(ALICE.sub, "zoom")
    settle(google, services)

    assert zoom.meetings == {}
    grant = services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom"))
    assert grant is not None and grant.status == "active"


def test_delegation_withdrawn_by_the_admin_pauses_background_sync_and_the_users_own_visit_resumes_it(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    google.state.delegation_enabled = False
    for token in list(google.state.delegated_tokens):
        google.revoke_token(token)
    later = START + timedelta(hours=4)

    google.edit_event(CALENDAR, EVENT_ID, times(later, timedelta(hours=1)))
    settle(google, services)
    record = services.store.get(CalendarSync, CalendarSync.id_for(ALICE.sub, CALENDAR))
    assert record is not None and record.suspended == "google"
    assert the_meeting("zoom", zoom, webex).starts_at == START.astimezone(UTC)

    # Alice opens the add-on: her own token reads the change, and the pause is lifted.
    (card,) = trigger_cards(caller.post("/calendar/home", caller.event("CALENDAR")).get_json())
    assert "Paused: Google refused background access" in card_text(card)
    settle(google, services)

    assert the_meeting("zoom", zoom, webex).starts_at == later.astimezone(UTC)
    record = services.store.get(CalendarSync, CalendarSync.id_for(ALICE.sub, CALENDAR))
    assert record is not None and record.suspended is None


# Signals: repeats, lost ones, expired tokens -----------------------------------------------------


def test_repeated_notifications_change_nothing_more(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Renamed"})
    settle(google, services)
    updates = len(audit_outcomes(services))
    (channel,) = [c for c in google.channels_of(CALENDAR) if c.live]

    statuses = [google.deliver(channel.channel_id) for _ in range(5)]
    settle(google, services)

    assert statuses == [200] * 5
    assert len(audit_outcomes(services)) == updates
    assert len(zoom.meetings) == 1


def test_an_expired_sync_token_leads_to_a_full_read_that_still_applies_the_change(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    google.invalidate_sync_tokens(CALENDAR)

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "After a full read"})
    settle(google, services)

    assert the_meeting("zoom", zoom, webex).data["topic"] == "After a full read"
    full_reads = [r for r in google.requests_to(f"/calendar/v3/calendars/{CALENDAR}/events") if "timeMin" in r.args]
    assert len(full_reads) >= 2  # the first sync, and the one after the 410


def test_a_lost_notification_is_made_up_for_by_the_periodic_reconcile(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    syncer: CalendarSyncer,
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    for channel in google.channels_of(CALENDAR):
        google.expire_channel(channel.channel_id)  # nothing will be delivered

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Nobody told the app"})
    settle(google, services)
    assert the_meeting("zoom", zoom, webex).data["topic"] != "Nobody told the app"

    assert syncer.reconcile_all(deadline=float("inf")) == 1

    assert the_meeting("zoom", zoom, webex).data["topic"] == "Nobody told the app"


def test_renewing_opens_a_new_channel_before_the_old_one_ends_and_stops_the_old_one(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    syncer: CalendarSyncer,
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    (old,) = google.channels_of(CALENDAR)
    google.state.max_channel_ttl_seconds = 3600  # Google may cut a channel's life short

    assert syncer.renew_channels(deadline=float("inf")) == 0  # a week left: nothing to do
    record = services.store.get(CalendarSync, CalendarSync.id_for(ALICE.sub, CALENDAR))
    assert record is not None
    services.store.put(dataclasses.replace(record, channel_expires_at=datetime.now(UTC) + timedelta(hours=1)))
    assert syncer.renew_channels(deadline=float("inf")) == 1

    channels = google.channels_of(CALENDAR)
    assert [c.live for c in channels if c.channel_id == old.channel_id] == [False]
    assert len([c for c in channels if c.live]) == 1
    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Through the new channel"})
    settle(google, services)
    assert the_meeting("zoom", zoom, webex).data["topic"] == "Through the new channel"


# With the add-on open, and without a service account -------------------------------------------


def test_saving_the_event_with_the_add_on_open_updates_the_meeting_at_once(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    for channel in google.channels_of(CALENDAR):
        google.expire_channel(channel.channel_id)
    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Saved in the editor"})

    response = event_action(caller, "/calendar/event-update")

    assert response.status_code == 200
    assert response.get_json()["renderActions"]["action"]["notification"]["text"] == (
        "The meeting now matches the event."
    )
    assert the_meeting("zoom", zoom, webex).data["topic"] == "Saved in the editor"
    (card,) = action_cards(response.get_json())
    assert "Update meeting" not in card_text(card)


def test_without_a_service_account_the_users_next_visit_brings_the_meeting_in_step(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Settings,
    syncer: CalendarSyncer,
) -> None:
    services.offline = OfflineAccess(None)
    syncer.user_sync_interval_seconds = 0  # else at most once a minute
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    settle(google, services)
    assert google.channels_of(CALENDAR) == []  # nothing could read them while Alice is away
    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Changed while away"})
    settle(google, services)
    assert the_meeting("zoom", zoom, webex).data["topic"] == "Quarterly review"

    (card,) = trigger_cards(caller.post("/gmail/home", caller.event("GMAIL")).get_json())
    settle(google, services)

    assert "Limited" in card_text(card)
    assert the_meeting("zoom", zoom, webex).data["topic"] == "Changed while away"


# Keyless delegation (no key file: IAM signs for the app's own identity) --------------------------


def keyless(services: Services, google: FakeGoogle, monkeypatch: pytest.MonkeyPatch, token_creator: bool) -> str:
    """The app runs as App Engine's identity (the fake's metadata server) and signs through IAM."""
    monkeypatch.setenv("GCE_METADATA_HOST", google.url.removeprefix("http://"))
    account = google.keyless_service_account(token_creator=token_creator)
    services.offline = OfflineAccess(None, account, services.settings.google_api_endpoint)
    return account


def test_keyless_delegation_signs_through_iam_and_keeps_the_meeting_in_step(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = keyless(services, google, monkeypatch, token_creator=True)
    meeting_on_event(caller, google, services, "zoom", zoom, webex)

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Signed by IAM"})
    settle(google, services)

    assert the_meeting("zoom", zoom, webex).data["topic"] == "Signed by IAM"
    assert (account, ALICE.email) in google.state.sign_requests
    assert {(r.sub, r.scopes, r.status) for r in google.state.token_requests} == {
        (ALICE.email, ("https://www.googleapis.com/auth/calendar.events",), 200)
    }


def test_keyless_delegation_without_the_token_creator_role_pauses_sync_and_changes_nothing(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    monkeypatch: pytest.MonkeyPatch,
    syncer: CalendarSyncer,
) -> None:
    keyless(services, google, monkeypatch, token_creator=False)
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    settle(google, services)

    google.delete_event(CALENDAR, EVENT_ID)
    syncer.submit(CalendarSync.id_for(ALICE.sub, CALENDAR))
    settle(google, services)

    assert len(zoom.meetings) == 1
    record = services.store.get(CalendarSync, CalendarSync.id_for(ALICE.sub, CALENDAR))
    assert record is not None and record.suspended == "google"


# With a Cloud Tasks queue -------------------------------------------------------------------------

INVOKER = "addon-tasks@test-project.iam.gserviceaccount.com"


def test_with_a_cloud_tasks_queue_a_burst_of_notifications_becomes_one_queued_sync(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GCE_METADATA_HOST", google.url.removeprefix("http://"))
    services.settings = dataclasses.replace(settings, cron_service_account=INVOKER)
    queue = "projects/test-project/locations/europe-west6/queues/calendar-sync"
    services.cloud_tasks = CloudTasks(
        queue, settings.base_url, INVOKER, RuntimeIdentity(), settings.google_api_endpoint, window_seconds=1.0
    )
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    (channel,) = [c for c in google.channels_of(CALENDAR) if c.live]

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Through Cloud Tasks"})
    for _ in range(4):
        google.deliver(channel.channel_id)  # Google repeats itself
    settle(google, services)

    assert the_meeting("zoom", zoom, webex).data["topic"] == "Through Cloud Tasks"
    dispatched = google.state.task_dispatches
    assert dispatched and all(d.status == 200 for d in dispatched)
    assert all(d.url and "/tasks/sync?calendar=" in d.url for d in dispatched)
    assert len(google.state.cloud_tasks) < 5  # five notifications, folded into the tasks of one or two windows
    assert all(name.startswith(queue + "/tasks/") for name in google.state.cloud_tasks)


def test_a_queued_sync_refuses_a_caller_that_is_not_the_task_invoker(
    client: FlaskClient, google: FakeGoogle, settings: Settings, services: Services
) -> None:
    services.settings = dataclasses.replace(settings, cron_service_account=INVOKER)
    path = "/tasks/sync?calendar=" + CalendarSync.id_for(ALICE.sub, CALENDAR)
    forged = google.key.sign(system_claims(settings.base_url + path, "someone@else.iam.gserviceaccount.com"))

    assert client.post(path, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_reconcile_cut_short_by_its_deadline_goes_on_where_it_stopped(
    google: FakeGoogle, services: Services, syncer: CalendarSyncer
) -> None:
    calendars = [f"team-{name}@group.calendar.google.com" for name in ("a", "b", "c")]
    for calendar in calendars:
        sync_id = CalendarSync.id_for(ALICE.sub, calendar)
        services.store.put(
            CalendarSync(sync_id=sync_id, user_id=ALICE.sub, user_email=ALICE.email, calendar_id=calendar)
        )
    google.stall("/calendar/v3/calendars/team-a", 0.3)  # the first calendar is slow to list

    first = syncer.reconcile_all(deadline=time.monotonic() + 0.1)
    second = syncer.reconcile_all(deadline=float("inf"))

    def listed(calendar: str) -> int:
        path = f"/calendar/v3/calendars/{calendar}/events"
        return len([r for r in google.requests_to(path) if r.method == "GET" and r.path == path])

    assert (first, second) == (1, 2)
    assert [listed(c) for c in calendars] == [1, 1, 1]  # each calendar once, none skipped


# Conference data: Calendar may take it, refuse it, or drop it without a word ---------------------

CONFERENCE_MODES = [
    ("accept", None),
    ("refuse", "Invalid conference type value."),
    ("refuse", "Invalid conference data"),
    ("drop", None),
]


@pytest.mark.parametrize(("mode", "refusal"), CONFERENCE_MODES)
def test_a_meeting_lives_by_its_description_whatever_calendar_does_with_its_conference(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    mode: str,
    refusal: str | None,
) -> None:
    google.state.addon_conferences = mode
    google.state.addon_conference_refusal = refusal or google.state.addon_conference_refusal
    link = meeting_on_event(caller, google, services, "zoom", zoom, webex)

    event = google.event(CALENDAR, EVENT_ID)
    assert event is not None and link.join_url in event["description"] and event["location"] == link.join_url
    conference = event.get("conferenceData")
    if mode == "accept":
        assert conference["conferenceId"] == link.meeting_id
        assert conference["entryPoints"][0]["uri"] == link.join_url
    else:
        assert conference is None
    assert services.conference_support.accepted is (mode == "accept")

    # It follows a move, a copy does not take it along, and removing it takes everything off.
    later = START + timedelta(days=2)
    google.edit_event(CALENDAR, EVENT_ID, times(later, timedelta(hours=1)))
    copy_id = google.copy_event(CALENDAR, EVENT_ID)
    settle(google, services)
    assert the_meeting("zoom", zoom, webex).starts_at == later.astimezone(UTC)
    copy = google.event(CALENDAR, copy_id)
    assert copy is not None and link.join_url not in copy.get("description", "")
    assert "conferenceData" not in copy and copy.get("location", "") == ""

    response = event_action(caller, "/actions/remove-meeting")
    assert response.status_code == 200
    after = google.event(CALENDAR, EVENT_ID)
    assert after is not None and BLOCK_START not in after.get("description", "")
    assert "conferenceData" not in after and not after.get("location")
    assert zoom.meetings == {}


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_once_calendar_has_not_kept_a_conference_none_is_sent_again(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, mode: str
) -> None:
    google.state.addon_conferences = mode
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    # The user cut the join details out of the description: Update meeting writes them again.
    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Quarterly review, again", "description": "Agenda only"})
    settle(google, services)

    response = event_action(caller, "/actions/update-meeting")

    assert response.status_code == 200
    assert "Join Zoom meeting" in google.event(CALENDAR, EVENT_ID)["description"]
    patches = [r for r in google.requests_to(f"/calendar/v3/calendars/{CALENDAR}/events/") if r.method == "PATCH"]
    with_conference = [r for r in patches if "conferenceData" in (r.get_json(silent=True) or {})]
    # One try (refused or dropped), then only the description and location.
    assert len(with_conference) == 1 and len(patches) >= 2


# Deletions in seconds: the grace period ends with a task, the reconcile's sweep only as the backstop ----------

GRACE = 1


def gone_within(seconds: float, zoom: FakeZoom) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if zoom.meetings == {}:
            return True
        time.sleep(0.05)
    return False


def test_a_deleted_events_meeting_is_gone_when_the_grace_period_ends_without_waiting_for_the_reconcile(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, settings: Settings
) -> None:
    services.settings = dataclasses.replace(settings, sync_delete_grace_seconds=GRACE)
    meeting_on_event(caller, google, services, "zoom", zoom, webex)

    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)
    assert len(zoom.meetings) == 1  # still within the grace period

    assert gone_within(GRACE + 5, zoom)
    assert services.tasks.wait_idle(10, delayed=True)
    assert services.store.get(MeetingLink, KEY) is None
    assert "delete: event deleted in Calendar" in audit_outcomes(services)


def test_an_undo_within_the_grace_period_keeps_the_meeting_when_its_task_comes(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex, settings: Settings
) -> None:
    services.settings = dataclasses.replace(settings, sync_delete_grace_seconds=GRACE)
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    kept = dict(google.event(CALENDAR, EVENT_ID) or {})

    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)
    google.add_event(CALENDAR, kept)  # Calendar's Undo
    settle(google, services)
    assert services.tasks.wait_idle(GRACE + 10, delayed=True)  # the grace period's task has run

    assert len(zoom.meetings) == 1
    assert services.store.get(MeetingLink, KEY) is not None
    assert services.store.get(PendingDeletion, KEY) is None


def test_with_cloud_tasks_the_grace_period_ends_with_a_task_for_that_moment(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GCE_METADATA_HOST", google.url.removeprefix("http://"))
    services.settings = dataclasses.replace(settings, cron_service_account=INVOKER, sync_delete_grace_seconds=GRACE)
    queue = "projects/test-project/locations/europe-west6/queues/calendar-sync"
    services.cloud_tasks = CloudTasks(
        queue, settings.base_url, INVOKER, RuntimeIdentity(), settings.google_api_endpoint, window_seconds=1.0
    )
    meeting_on_event(caller, google, services, "zoom", zoom, webex)

    google.delete_event(CALENDAR, EVENT_ID)
    settle(google, services)

    assert gone_within(GRACE + 5, zoom)
    sweeps = [d for d in google.state.task_dispatches if d.url and "/tasks/sweep?link=" in d.url]
    assert len(sweeps) == 1 and sweeps[0].status == 200
    assert services.store.get(MeetingLink, KEY) is None
