"""Domain policy set by an admin, and the settings users get under it, through the real app and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from addon.__main__ import main
from addon.policy import effective_settings
from addon.services import Services
from addon.settings import Settings
from addon.store import AuditRecord, DomainPolicy, UserSettings
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.google import FakeGoogle
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.scenarios import EVENT_ID, START, arrange_event, event_action, use

OFFERED = ("jitsi", "webex", "zoom")
DOMAIN = ALICE.email.split("@")[1]


def set_policy(services: Services, **fields: Any) -> None:
    services.store.put(DomainPolicy(domain=DOMAIN, **fields))
    services.policies.forget(DOMAIN)


def test_a_new_user_starts_with_the_domain_default() -> None:
    policy = DomainPolicy(domain=DOMAIN, default_provider="webex", duration_minutes=50, webex_site="acme.webex.com")

    settings = effective_settings(ALICE.sub, None, policy, OFFERED)

    assert (settings.provider, settings.duration_minutes, settings.webex_site) == ("webex", 50, "acme.webex.com")


def test_the_users_own_choice_wins_where_the_domain_allows_it() -> None:
    policy = DomainPolicy(domain=DOMAIN, default_provider="webex")
    mine = UserSettings(user_id=ALICE.sub, provider="zoom", duration_minutes=25)

    settings = effective_settings(ALICE.sub, mine, policy, OFFERED)

    assert (settings.provider, settings.duration_minutes) == ("zoom", 25)


def test_a_locked_or_disallowed_choice_gives_way_to_the_domain() -> None:
    mine = UserSettings(user_id=ALICE.sub, provider="zoom", webex_site="mine.webex.com")

    locked = effective_settings(
        ALICE.sub,
        mine,
        DomainPolicy(
            domain=DOMAIN, default_provider="webex", webex_site="acme.webex.com", locked=("provider", "webex_site")
        ),
        OFFERED,
    )
    disallowed = effective_settings(ALICE.sub, mine, DomainPolicy(domain=DOMAIN, allowed_providers=("jitsi",)), OFFERED)

    assert (locked.provider, locked.webex_site) == ("webex", "acme.webex.com")
    assert disallowed.provider == "jitsi"
    assert disallowed.allowed_providers == ("jitsi",)


def test_services_the_install_does_not_offer_are_never_allowed() -> None:
    settings = effective_settings(
        ALICE.sub, None, DomainPolicy(domain=DOMAIN, allowed_providers=("webex",)), ("jitsi",)
    )

    assert settings.allowed_providers == ("jitsi",)
    assert settings.provider == "jitsi"


def test_the_settings_card_shows_what_the_admin_fixed_and_offers_only_what_is_allowed(
    caller: GoogleCaller, services: Services
) -> None:
    set_policy(services, allowed_providers=("jitsi", "zoom"), default_provider="zoom", locked=("provider",))

    (card,) = action_cards(caller.post("/actions/settings", caller.event("GMAIL")).get_json())

    text = card_text(card)
    assert "Set by your administrator" in text
    assert "Webex" not in text
    widgets = [w for s in card["sections"] for w in s["widgets"]]
    assert widgets
    assert not any(w.get("selectionInput", {}).get("name") == "provider" for w in widgets)


def test_a_locked_service_cannot_be_changed_by_a_crafted_save(caller: GoogleCaller, services: Services) -> None:
    set_policy(services, default_provider="zoom", locked=("provider",))
    body = caller.event("GMAIL")
    body["commonEventObject"]["formInputs"] = {
        "provider": {"stringInputs": {"value": ["jitsi"]}},
        "duration_minutes": {"stringInputs": {"value": ["30"]}},
    }

    response = caller.post("/actions/settings/save", body)

    assert response.status_code == 400
    assert services.store.get(UserSettings, ALICE.sub) is None


def test_the_homepage_shows_the_domain_default(caller: GoogleCaller, services: Services) -> None:
    set_policy(services, default_provider="zoom")

    (card,) = trigger_cards(caller.post("/gmail/home", caller.event("GMAIL")).get_json())

    assert "Zoom" in card_text(card) and "not connected" in card_text(card)


def test_audit_records_are_kept_as_long_as_the_domain_says(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    set_policy(services, retention_days=30)
    use(services, "jitsi", zoom, webex)
    arrange_event(google)

    event_action(caller, "/actions/add-meeting")

    (record,) = services.store.with_prefix(AuditRecord, ALICE.email + "/")
    assert record.expires_at is not None
    assert abs(record.expires_at - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)


def test_the_policy_command_sets_what_the_app_then_applies(
    settings: Settings, caller: GoogleCaller, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADDON_STORE", settings.store)
    command = ["policy", "set", "--domain", DOMAIN.upper()]

    done = main(
        [*command, "--allow", "jitsi,webex", "--default", "webex", "--lock", "provider", "--copied-events", "new"]
    )
    said = capsys.readouterr()
    refused = main([*command, "--allow", "teams"])
    complaint = capsys.readouterr()

    assert done == 0
    assert "default_provider: webex" in said.out
    assert "copied_events: new" in said.out and "rotate_passcode_on_removal: False" in said.out
    assert refused == 2 and "unknown service: teams" in complaint.err
    (card,) = trigger_cards(caller.post("/gmail/home", caller.event("GMAIL")).get_json())
    assert "Webex" in card_text(card)


# The user's own options -----------------------------------------------------------------------


def save_options(caller: GoogleCaller, *options: str) -> Any:
    body = caller.event("CALENDAR")
    body["commonEventObject"]["formInputs"] = {
        "provider": {"stringInputs": {"value": ["zoom"]}},
        "duration_minutes": {"stringInputs": {"value": ["30"]}},
        "options": {"stringInputs": {"value": list(options)}},
    }
    return caller.post("/actions/settings/save", body)


def test_with_automatic_meetings_opening_an_event_adds_one_once(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    assert save_options(caller, "auto_add").status_code == 200
    arrange_event(google)

    (first,) = trigger_cards(event_action(caller, "/calendar/event-open").get_json())
    (second,) = trigger_cards(event_action(caller, "/calendar/event-open").get_json())

    assert "Remove meeting" in card_text(first) and "Remove meeting" in card_text(second)
    assert len(zoom.meetings) == 1
    assert google.state.events[(ALICE.email, EVENT_ID)]["location"]


def test_the_waiting_room_default_reaches_the_meeting_service(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    save_options(caller, "waiting_room")
    arrange_event(google)

    event_action(caller, "/actions/add-meeting")

    (meeting,) = zoom.meetings.values()
    assert meeting.data["settings"]["waiting_room"] is True


def test_a_chosen_template_is_used_for_new_meetings(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "webex", zoom, webex)
    body = caller.event("CALENDAR")
    body["commonEventObject"]["formInputs"] = {
        "provider": {"stringInputs": {"value": ["webex"]}},
        "duration_minutes": {"stringInputs": {"value": ["30"]}},
        "template_id": {"stringInputs": {"value": ["tmpl-board-meeting"]}},
    }
    assert caller.post("/actions/settings/save", body).status_code == 200
    arrange_event(google)

    event_action(caller, "/actions/add-meeting")

    (create,) = [r for r in webex.requests_to("POST", "/v1/meetings")]
    assert create.get_json()["templateId"] == "tmpl-board-meeting"


# The directory as a source of Webex sites ----------------------------------------------------


@contextmanager
def app_with(settings: Settings, google: FakeGoogle) -> Iterator[tuple[GoogleCaller, Services]]:
    """An app of its own, for settings the shared fixture does not have."""
    from addon import create_app

    app = create_app(settings)
    found: Services = app.extensions["addon"]
    try:
        yield GoogleCaller(app.test_client(), google, settings), found
    finally:
        found.close()


@pytest.fixture
def directory_settings(settings: Settings) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, directory_site_field="Webex.SiteURL")


def test_the_webex_site_comes_from_the_users_directory_record(
    directory_settings: Settings, google: FakeGoogle, zoom: FakeZoom, webex: FakeWebex
) -> None:
    from addon import scopes

    with app_with(directory_settings, google) as (caller, found):
        use(found, "webex", zoom, webex)
        google.state.directory[ALICE.email] = {"Webex": {"SiteURL": "https://acme.webex.com/"}}
        arrange_event(google)
        body = caller.calendar_event(ALICE.email, EVENT_ID)
        body["authorizationEventObject"]["authorizedScopes"].append(scopes.DIRECTORY_USER_READONLY)

        assert caller.post("/actions/add-meeting", body).status_code == 200

    (create,) = webex.requests_to("POST", "/v1/meetings")
    assert create.get_json()["siteUrl"] == "acme.webex.com"
    assert google.requests_to(f"/admin/directory/v1/users/{ALICE.email}")[0].args["viewType"] == "domain_public"


def test_without_the_directory_scope_the_directory_is_not_read(
    directory_settings: Settings, google: FakeGoogle, zoom: FakeZoom, webex: FakeWebex
) -> None:
    with app_with(directory_settings, google) as (caller, found):
        use(found, "webex", zoom, webex)
        google.state.directory[ALICE.email] = {"Webex": {"SiteURL": "acme.webex.com"}}
        arrange_event(google)

        assert event_action(caller, "/actions/add-meeting").status_code == 200

    assert google.requests_to("/admin/directory/") == []
    (create,) = webex.requests_to("POST", "/v1/meetings")
    assert create.get_json().get("siteUrl") != "acme.webex.com"


def when_of(card: dict[str, Any]) -> str:
    """The card's "When" line, as the user reads it."""
    (when,) = [
        w["decoratedText"]["text"]
        for section in card["sections"]
        for w in section.get("widgets", [])
        if w.get("decoratedText", {}).get("topLabel") == "When"
    ]
    return when


def test_with_automatic_meetings_an_opened_occurrence_shows_its_own_time(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    """The meeting goes on the series; the card is about the occurrence the user opened."""
    use(services, "zoom", zoom, webex)
    arrange_event(google, recurrence=["RRULE:FREQ=WEEKLY;COUNT=10"])
    series = google.state.events[(ALICE.email, EVENT_ID)]
    later = START + timedelta(weeks=3)
    occurrence_id = f"{EVENT_ID}_{later.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    google.add_event(
        ALICE.email,
        {
            **series,
            "id": occurrence_id,
            "recurringEventId": EVENT_ID,
            "start": {"dateTime": later.isoformat(), "timeZone": "Europe/Zurich"},
            "end": {"dateTime": (later + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Zurich"},
        },
    )

    def opened(event_id: str) -> dict[str, Any]:
        (card,) = trigger_cards(
            caller.post("/calendar/event-open", caller.calendar_event(ALICE.email, event_id)).get_json()
        )
        return card

    of_series, of_occurrence = when_of(opened(EVENT_ID)), when_of(opened(occurrence_id))
    assert save_options(caller, "auto_add").status_code == 200
    adding, after = opened(occurrence_id), opened(occurrence_id)  # the open that adds the meeting, and the next

    assert of_series != of_occurrence
    assert when_of(adding) == of_occurrence and when_of(after) == of_occurrence
    assert "Remove meeting" in card_text(adding) and len(zoom.meetings) == 1
