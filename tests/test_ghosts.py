"""No ghost meetings: a meeting no event shows (its create got no answer, or its event could not be written)
is taken up by the user's retry, or deleted by the reconcile's sweep once its grace has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from addon.join_details import MEETING_PROPERTY
from addon.scheduling.claims import GHOST_GRACE
from addon.services import Services
from addon.store import AuditRecord, MeetingLink, PendingCreate
from addon.sync import CalendarSyncer
from tests.card_schema import action_cards, card_text
from tests.fakes.google import FakeGoogle
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.scenarios import EVENT_ID, arrange_event, event_action, notification, stored_event, use

KEY = f"{ALICE.email}/{EVENT_ID}"
AFTER_GRACE = GHOST_GRACE + timedelta(seconds=1)
CREATE_PATHS = {"zoom": "/v2/users/me/meetings", "webex": "/v1/meetings"}


def lose_the_create(services: Services, fake: FakeZoom | FakeWebex, provider: str) -> None:
    """The create lands, its answer is lost, and the service's listing right after (every try) fails too."""
    fake.fail(CREATE_PATHS[provider], 504, times=1, method="POST", applied=True)
    fake.fail(CREATE_PATHS[provider], 503, times=services.meetings.clients[provider].retries + 1, method="GET")


def no_orphans(google: FakeGoogle, fake: FakeZoom | FakeWebex) -> None:
    """Every meeting on the service is on the event, and the event points at no meeting the service lacks."""
    shown = (stored_event(google).get("extendedProperties") or {}).get("private", {}).get(MEETING_PROPERTY)
    assert set(fake.meetings) <= {shown}
    assert shown is None or shown in fake.meetings


@pytest.mark.parametrize("provider", ["zoom", "webex"])
def test_a_meeting_made_by_a_create_that_got_no_answer_is_deleted_after_its_grace(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    syncer: CalendarSyncer,
    zoom: FakeZoom,
    webex: FakeWebex,
    provider: str,
) -> None:
    use(services, provider, zoom, webex)
    fake = {"zoom": zoom, "webex": webex}[provider]
    arrange_event(google)
    lose_the_create(services, fake, provider)

    response = event_action(caller, "/actions/add-meeting")

    assert response.status_code == 200
    said = card_text(action_cards(response.get_json())[0]) + notification(response)
    assert "did not answer in time" in said and "Nothing was changed" not in said
    assert len(fake.meetings) == 1  # made, and shown by no event
    assert syncer.sweep_ghosts(now=datetime.now(UTC)) == 0  # still within its grace: the user may try again

    assert syncer.sweep_ghosts(now=datetime.now(UTC) + AFTER_GRACE) == 1

    assert fake.meetings == {}
    no_orphans(google, fake)
    assert services.store.get(MeetingLink, KEY) is None and services.store.get(PendingCreate, KEY) is None
    (record,) = services.store.with_prefix(AuditRecord, ALICE.email + "/")
    assert record.action == "delete" and record.outcome.startswith("deleted: no event showed it")


@pytest.mark.parametrize("provider", ["zoom", "webex"])
def test_a_retry_within_the_grace_takes_the_meeting_up_and_the_sweep_leaves_it(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    syncer: CalendarSyncer,
    zoom: FakeZoom,
    webex: FakeWebex,
    provider: str,
) -> None:
    use(services, provider, zoom, webex)
    fake = {"zoom": zoom, "webex": webex}[provider]
    arrange_event(google)
    lose_the_create(services, fake, provider)
    event_action(caller, "/actions/add-meeting")

    again = event_action(caller, "/actions/add-meeting")

    assert "meeting added to the event" in notification(again)
    assert syncer.sweep_ghosts(now=datetime.now(UTC) + AFTER_GRACE) == 0
    assert len(fake.meetings) == 1
    no_orphans(google, fake)
    assert services.store.get(PendingCreate, KEY) is None


def test_a_meeting_kept_for_a_retry_that_never_comes_is_deleted_after_its_grace(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    syncer: CalendarSyncer,
    zoom: FakeZoom,
    webex: FakeWebex,
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    # Calendar refuses the write, and Zoom refuses to delete the meeting again: it is kept for a retry.
    google.fail(f"/calendar/v3/calendars/{ALICE.email}/events/{EVENT_ID}", 403, times=1, method="PATCH")
    zoom.fail("/v2/meetings/", 500, times=services.meetings.clients["zoom"].retries + 1, method="DELETE")
    kept = event_action(caller, "/actions/add-meeting")
    assert "kept for your next try" in notification(kept)

    assert syncer.sweep_ghosts(now=datetime.now(UTC) + AFTER_GRACE) == 1

    assert zoom.meetings == {}
    no_orphans(google, zoom)
    assert services.store.get(MeetingLink, KEY) is None


def test_a_sweep_that_cannot_reach_the_service_tries_again_next_time(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    syncer: CalendarSyncer,
    zoom: FakeZoom,
    webex: FakeWebex,
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    lose_the_create(services, zoom, "zoom")
    event_action(caller, "/actions/add-meeting")
    zoom.fail(CREATE_PATHS["zoom"], 503, times=services.meetings.clients["zoom"].retries + 1, method="GET")

    assert syncer.sweep_ghosts(now=datetime.now(UTC) + AFTER_GRACE) == 0
    assert len(zoom.meetings) == 1 and services.store.get(PendingCreate, KEY) is not None

    assert syncer.sweep_ghosts(now=datetime.now(UTC) + AFTER_GRACE) == 1
    assert zoom.meetings == {}
