"""The local preview's backend: development mode runs the real add-on on a sample mailbox and calendar,
with requests signed by a key that only development mode trusts."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.deployment import load_deployment, trigger_urls
from addon.devhost.identity import DevIdentity
from addon.devhost.samples import PREVIEW_OAUTH_TOKEN
from addon.settings import Settings, SettingsError
from addon.web.devhost import STATIC, TRIGGER_PATHS
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.http_server import WsgiServer


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[FlaskClient]:
    """The app in development mode on a real HTTP server (it reads its sample Google over HTTP, as it would Google)."""
    served: dict[str, Flask] = {}
    server = WsgiServer(lambda environ, start: served["app"](environ, start))
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        Settings.from_env(
            {"ADDON_ENV": "development", "ADDON_BASE_URL": base_url, "ADDON_STORE": f"sqlite:///{tmp_path / 'dev.db'}"}
        )
    )
    served["app"] = app
    server.start()
    yield app.test_client()
    server.stop()
    app.extensions["addon"].close()


def open_trigger(client: FlaskClient, **context: Any) -> dict[str, Any]:
    answer = client.post("/preview/api/open", json={"locale": "en", "timeZone": "Europe/Zurich", **context})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    result = answer.get_json()
    assert result["status"] == 200, result
    return result["body"]


def invoke(client: FlaskClient, function: str, context: dict[str, Any], **form: Any) -> dict[str, Any]:
    answer = client.post("/preview/api/invoke", json={"function": function, "formInputs": form, "context": context})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    result = answer.get_json()
    assert result["status"] == 200, result
    return result["body"]


def actions_of(card: dict[str, Any]) -> dict[str, str]:
    """Button text -> the action URL it calls."""
    found = {}
    for section in card["sections"]:
        for widget in section["widgets"]:
            for button in widget.get("buttonList", {}).get("buttons", []):
                if "action" in button["onClick"]:
                    found[button["text"]] = button["onClick"]["action"]["function"]
    footer = card.get("fixedFooter", {}).get("primaryButton")
    if footer and "action" in footer["onClick"]:
        found[footer["text"]] = footer["onClick"]["action"]["function"]
    return found


def test_a_sample_email_is_scheduled_on_jitsi_and_lands_in_the_sample_calendar(preview: FlaskClient) -> None:
    samples = preview.get("/preview/api/samples").get_json()
    message = samples["messages"][0]
    context = {"host": "GMAIL", "trigger": "message", "messageId": message["id"], "locale": "en"}

    (form,) = trigger_cards(open_trigger(preview, **context))
    assert "sam@partner.example" in card_text(form)
    schedule = actions_of(form)["Schedule meeting"]
    done = invoke(
        preview,
        schedule,
        context,
        title={"stringInputs": {"value": ["Kickoff (preview)"]}},
        participants={"stringInputs": {"value": ["sam@partner.example"]}},
        duration={"stringInputs": {"value": ["45"]}},
        start={"dateTimeInput": {"msSinceEpoch": 4_102_444_800_000}},  # 2100-01-01
        send_invitations={"stringInputs": {"value": ["yes"]}},
    )

    (confirmation,) = action_cards(done)
    assert "https://meet.jit.si/" in card_text(confirmation)
    events = preview.get("/preview/api/samples").get_json()["events"]
    (made,) = [e for e in events if e["title"] == "Kickoff (preview)"]
    (opened,) = trigger_cards(
        open_trigger(preview, host="CALENDAR", trigger="event", calendarId=made["calendarId"], eventId=made["id"])
    )
    assert "Jitsi Meet meeting" in card_text(opened) and "Remove meeting" in card_text(opened)


def test_a_sample_event_gets_a_meeting_in_one_click(preview: FlaskClient) -> None:
    event = preview.get("/preview/api/samples").get_json()["events"][0]
    context = {"host": "CALENDAR", "trigger": "event", "calendarId": event["calendarId"], "eventId": event["id"]}
    (card,) = trigger_cards(open_trigger(preview, **context))

    (after,) = action_cards(invoke(preview, actions_of(card)["Add Jitsi Meet meeting"], context))

    assert "Join" in card_text(after) and "Remove meeting" in card_text(after)


def test_an_event_moved_in_the_editor_takes_its_meeting_along_when_saved(preview: FlaskClient) -> None:
    event = preview.get("/preview/api/samples").get_json()["events"][0]
    context = {"host": "CALENDAR", "trigger": "event", "calendarId": event["calendarId"], "eventId": event["id"]}
    (card,) = trigger_cards(open_trigger(preview, **context))
    invoke(preview, actions_of(card)["Add Jitsi Meet meeting"], context)
    # The new meeting's first calendar sync runs in the background (started after the answer); let it end, or
    # it may follow the edit first.
    services = preview.application.extensions["addon"]
    assert services.after_answer.wait_idle(10) and services.tasks.wait_idle(10)
    sync_token = sample_calendar(preview)["nextSyncToken"]
    zone = ZoneInfo("Europe/Zurich")
    start = datetime.combine(datetime.now(zone).date() + timedelta(days=4), time(15, 30), zone)

    edited = preview.post(
        f"/preview/api/events/{event['id']}",
        json={"calendarId": event["calendarId"], "startMs": int(start.timestamp() * 1000), "minutes": 45},
    )
    saved = open_trigger(preview, **{**context, "trigger": "saved"})

    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["start"] == start.isoformat()
    (changed,) = sample_calendar(preview, sync_token)["items"]
    assert changed["id"] == event["id"] and changed["end"]["timeZone"] == "Europe/Zurich"
    assert saved["renderActions"]["action"]["notification"]["text"] == "The meeting now matches the event."
    (after,) = action_cards(saved)
    assert "15:30" in card_text(after) and "16:15" in card_text(after)
    assert "Remove meeting" in card_text(after)


def test_editing_an_event_the_calendar_does_not_have_is_not_found(preview: FlaskClient) -> None:
    event = preview.get("/preview/api/samples").get_json()["events"][0]

    unknown = preview.post("/preview/api/events/no-such-event", json={"title": "Renamed"})
    elsewhere = preview.post(
        f"/preview/api/events/{event['id']}", json={"calendarId": "kim@partner.example", "title": "Renamed"}
    )

    assert (unknown.status_code, elsewhere.status_code) == (404, 404)
    assert unknown.get_json() == {"error": "no such event"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (["not", "an", "object"], "JSON object"),
        ({}, "nothing to change"),
        ({"summary": "Renamed"}, "unknown field 'summary'"),
        ({"calendarId": 7, "title": "Renamed"}, "calendarId"),
        ({"title": 42}, "title"),
        ({"startMs": "tomorrow"}, "startMs"),
        ({"startMs": True}, "startMs"),
        ({"startMs": 10**20}, "startMs is out of range"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": 30.5}, "minutes"),
        ({"minutes": 7 * 24 * 60 + 1}, "minutes"),
        ({"title": "Renamed", "minutes": -5}, "minutes"),
    ],
)
def test_an_event_edit_that_makes_no_sense_is_refused_and_changes_nothing(
    preview: FlaskClient, body: Any, reason: str
) -> None:
    before = preview.get("/preview/api/samples").get_json()["events"]

    answer = preview.post(f"/preview/api/events/{before[0]['id']}", json=body)

    assert answer.status_code == 400
    assert reason in answer.get_json()["error"]
    assert preview.get("/preview/api/samples").get_json()["events"] == before


@pytest.mark.parametrize("path", ["/preview/api/open", "/preview/api/invoke", "/preview/api/events/any"])
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 5000 + b"]" * 5000, "nests deeper"),
        (b'{"title": "\\ud800"}', "not Unicode"),
        (b'{"title": "\xff"}', "not UTF-8"),
    ],
)
def test_the_preview_reads_its_bodies_as_the_add_on_does(
    preview: FlaskClient, path: str, data: bytes, reason: str
) -> None:
    answer = preview.post(path, data=data, content_type="application/json")

    assert answer.status_code == 400
    assert reason in answer.get_json()["error"]


def sample_calendar(client: FlaskClient, sync_token: str | None = None) -> dict[str, Any]:
    """events.list on the sample Calendar, as the add-on's calendar sync calls it."""
    answer = client.get(
        "/dev/google/calendar/v3/calendars/primary/events",
        query_string={"syncToken": sync_token} if sync_token else {},
        headers={"Authorization": f"Bearer {PREVIEW_OAUTH_TOKEN}"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_the_preview_opens_every_trigger_deployment_json_names() -> None:
    deployed = {urlsplit(url).path for url in trigger_urls(load_deployment()) if "/actions/" not in url}

    assert set(TRIGGER_PATHS.values()) == deployed


def test_every_page_module_is_served_as_javascript_whatever_the_machine_s_mime_table_says(
    preview: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Browsers refuse a module script served as anything else; some MIME tables (Windows' registry) say text/plain.
    monkeypatch.setattr(mimetypes, "guess_type", lambda *_, **__: ("text/plain", None))
    modules = sorted(path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*.js"))

    served = {}
    for name in modules:
        with preview.get(f"/preview/static/{name}") as answer:
            served[name] = (answer.status_code, answer.mimetype)

    assert "js/main.js" in modules
    assert served == {name: (200, "text/javascript") for name in modules}


def test_the_preview_refuses_to_call_anything_but_the_add_on(preview: FlaskClient) -> None:
    answer = preview.post(
        "/preview/api/invoke", json={"function": "https://evil.example/steal", "formInputs": {}, "context": {}}
    )

    assert answer.status_code == 400


def test_production_has_no_preview_and_refuses_development_tokens(client: FlaskClient, settings: Settings) -> None:
    token = DevIdentity().system_token(settings.base_url + "/gmail/home", settings.service_account_email)

    assert client.get("/preview").status_code == 404
    assert client.get("/dev/google/oauth2/v1/certs").status_code == 404
    refused = client.post("/gmail/home", json={}, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_development_will_not_touch_a_real_datastore_unless_told() -> None:
    with pytest.raises(SettingsError, match="will not use a real Datastore"):
        Settings.from_env({"ADDON_ENV": "development", "ADDON_STORE": "datastore"})

    assert (
        Settings.from_env(
            {"ADDON_ENV": "development", "ADDON_STORE": "datastore", "DATASTORE_EMULATOR_HOST": "localhost:8081"}
        ).store
        == "datastore"
    )
    assert (
        Settings.from_env(
            {"ADDON_ENV": "development", "ADDON_STORE": "datastore", "ADDON_DEVELOPMENT_ON_DATASTORE": "yes"}
        ).store
        == "datastore"
    )
