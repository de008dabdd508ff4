"""Connecting a meeting-service account through the real app: sign-in, sealed grants, dead grants, settings."""

from __future__ import annotations

import dataclasses
import html
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.meetings.model import GrantRevoked, MeetingSpec
from addon.meetings.oauth import TokenSet
from addon.services import Services
from addon.settings import Settings
from addon.store import ProviderGrant, UserSettings
from tests.card_schema import action_cards, card_text, trigger_cards, validate_card
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller

MESSAGE = FakeMessage("msg-f:42", "per-message", [("Subject", "Plan"), ("From", "bob@corp.example")])
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
SPEC = MeetingSpec("Plan", START, START + timedelta(minutes=30), "Europe/Zurich", invitees=("bob@corp.example",))


def fakes(zoom: FakeZoom, webex: FakeWebex) -> dict[str, FakeZoom | FakeWebex]:
    return {"zoom": zoom, "webex": webex}


def choose(services: Services, provider: str) -> None:
    services.store.put(UserSettings(user_id=ALICE.sub, provider=provider))


def open_message(caller: GoogleCaller, google: FakeGoogle) -> dict[str, Any]:
    google.add_message(MESSAGE)
    response = caller.post("/gmail/message", caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token))
    assert response.status_code == 200
    return response.get_json()


def prompt_card(body: dict[str, Any]) -> dict[str, Any]:
    """The card of a custom_authorization_prompt, checked against the schema."""
    assert set(body) == {"custom_authorization_prompt"}, body.keys()
    (navigation,) = body["custom_authorization_prompt"]["action"]["navigations"]
    return validate_card(navigation["pushCard"])


def sign_in_link(card: dict[str, Any]) -> dict[str, Any]:
    """The openLink of the card's sign-in button."""
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "openLink" in node:
                found.append(node["openLink"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    assert found, "the card has no sign-in link"
    return found[0]


def continue_link(start: Any) -> str:
    """The service's authorization URL behind the start page's Continue link."""
    assert start.status_code == 200, start.get_data(as_text=True)
    found = re.search(r'id="continue" href="([^"]+)"', start.get_data(as_text=True))
    assert found, "the start page has no Continue link"
    return html.unescape(found.group(1))


def follow_sign_in(client: FlaskClient, url: str) -> tuple[int, str, str]:
    """What the user's browser does: our start page, the service's consent page, our callback."""
    start = client.get(url.removeprefix("https://addon.test"))
    assert start.headers["Cache-Control"] == "no-store"
    consent = requests.get(continue_link(start), allow_redirects=False, timeout=5)
    assert consent.status_code in (302, 303), consent.text
    back = urlsplit(consent.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == "https://addon.test"
    callback = client.get(f"{back.path}?{back.query}")
    return callback.status_code, callback.get_data(as_text=True), back.query


def connect(client: FlaskClient, services: Services, provider: str) -> str:
    """Sign Alice in to `provider` through the real flow; returns the callback page."""
    from addon.web.signin import sign_in_url

    status, page, _ = follow_sign_in(client, sign_in_url(services, ALICE.sub, provider))
    assert status == 200, page
    return page


def action_body(caller: GoogleCaller, inputs: dict[str, str] | None = None, **parameters: str) -> dict[str, Any]:
    body = caller.event("GMAIL")
    body["commonEventObject"]["formInputs"] = {k: {"stringInputs": {"value": [v]}} for k, v in (inputs or {}).items()}
    body["commonEventObject"]["parameters"] = parameters
    return body


# Asking for an account ---------------------------------------------------------------------


def test_a_jitsi_user_is_never_asked_to_sign_in(caller: GoogleCaller, google: FakeGoogle) -> None:
    (card,) = trigger_cards(open_message(caller, google))

    assert "Plan" in card_text(card)


@pytest.mark.parametrize(("provider", "name"), [("zoom", "Zoom"), ("webex", "Webex")])
def test_a_user_who_chose_a_service_but_never_connected_gets_a_sign_in_card(
    caller: GoogleCaller, google: FakeGoogle, services: Services, provider: str, name: str
) -> None:
    choose(services, provider)

    card = prompt_card(open_message(caller, google))

    text = card_text(card)
    assert f"Connect {name}" in text
    assert f"create {name} meetings" in text  # says what the add-on will do there
    link = sign_in_link(card)
    assert link["openAs"] == "OVERLAY" and link["onClose"] == "RELOAD"
    assert link["url"].startswith(f"https://addon.test/connect/{provider}/start?ticket=")


# The sign-in round trip ------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["zoom", "webex"])
def test_signing_in_once_lets_the_user_create_change_and_delete_meetings(
    caller: GoogleCaller,
    google: FakeGoogle,
    client: FlaskClient,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    provider: str,
) -> None:
    choose(services, provider)
    link = sign_in_link(prompt_card(open_message(caller, google)))

    status, page, _ = follow_sign_in(client, link["url"])

    assert status == 200
    assert "is connected" in page and "window.close()" in page
    grant = services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, provider))
    assert grant is not None and grant.status == "active"
    (card,) = trigger_cards(open_message(caller, google))  # no more prompt: the message card
    assert "Plan" in card_text(card)

    service = services.meetings.provider(ALICE.sub, provider)
    meeting = service.create(SPEC, "primary/evt-1")
    assert meeting.join_url
    moved = dataclasses.replace(SPEC, start=START + timedelta(hours=1), end=START + timedelta(hours=2))
    assert service.update(meeting.meeting_id, moved).meeting_id == meeting.meeting_id
    service.delete(meeting.meeting_id)
    assert fakes(zoom, webex)[provider].requests_to("DELETE", "")


def test_the_callback_page_forbids_everything_but_its_own_closing_script(
    client: FlaskClient, services: Services
) -> None:
    from addon.web.signin import sign_in_url

    start = client.get(sign_in_url(services, ALICE.sub, "zoom").removeprefix("https://addon.test"))
    consent = requests.get(continue_link(start), allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    response = client.get(f"{back.path}?{back.query}")

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'nonce-" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_sign_in_uses_pkce_and_our_own_redirect_uri(client: FlaskClient, services: Services) -> None:
    from addon.web.signin import sign_in_url

    start = client.get(sign_in_url(services, ALICE.sub, "zoom").removeprefix("https://addon.test"))
    query = parse_qs(urlsplit(continue_link(start)).query)

    assert query["redirect_uri"] == ["https://addon.test/connect/zoom/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["client_id"] == [services.settings.zoom_client_id]


def test_a_callback_can_be_used_only_once(client: FlaskClient, services: Services) -> None:
    from addon.web.signin import sign_in_url

    status, _, query = follow_sign_in(client, sign_in_url(services, ALICE.sub, "zoom"))
    assert status == 200

    replay = client.get(f"/connect/zoom/callback?{query}")

    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)


@pytest.mark.parametrize(
    "ticket",
    ["", "garbage", "eyJzdWIiOiIxIn0.AAAA"],
    ids=["missing", "garbage", "unsigned"],
)
def test_a_start_link_without_a_valid_ticket_is_refused(client: FlaskClient, ticket: str) -> None:
    response = client.get(f"/connect/zoom/start?ticket={ticket}")

    assert response.status_code == 400
    assert "Sign in" in response.get_data(as_text=True)


def test_a_ticket_for_one_service_does_not_start_another(client: FlaskClient, services: Services) -> None:
    from addon.web.signin import sign_in_url

    webex_ticket = sign_in_url(services, ALICE.sub, "webex").split("ticket=")[1]

    assert client.get(f"/connect/zoom/start?ticket={webex_ticket}").status_code == 400


def test_an_expired_ticket_is_refused(client: FlaskClient, services: Services) -> None:
    ticket = services.box.sign_ticket("connect", {"sub": ALICE.sub, "provider": "zoom"}, ttl_seconds=-1)

    response = client.get(f"/connect/zoom/start?ticket={ticket}")

    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_forged_state_on_the_callback_stores_nothing(client: FlaskClient, services: Services) -> None:
    forged = services.box.sign_ticket("connect", {"sid": "x", "provider": "zoom"}, 600)  # wrong purpose

    response = client.get(f"/connect/zoom/callback?code=abc&state={forged}")

    assert response.status_code == 400
    assert services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom")) is None


def test_an_unknown_service_has_no_sign_in(client: FlaskClient) -> None:
    assert client.get("/connect/teams/start?ticket=x").status_code == 404
    assert client.get("/connect/jitsi/callback?code=x&state=y").status_code == 404


def test_declining_on_the_service_connects_nothing(client: FlaskClient, services: Services, zoom: FakeZoom) -> None:
    from addon.web.signin import sign_in_url

    zoom.deny_next()
    status, page, _ = follow_sign_in(client, sign_in_url(services, ALICE.sub, "zoom"))

    assert status == 200
    assert "was not connected" in page
    assert services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom")) is None


# Grants at rest ----------------------------------------------------------------------------


def stored_tokens(services: Services, provider: str) -> TokenSet:
    grant = services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, provider))
    assert grant is not None
    return services.meetings.grants.tokens(grant)


def test_the_grant_is_not_readable_in_clear_in_sqlite(
    client: FlaskClient, services: Services, settings: Settings
) -> None:
    connect(client, services, "zoom")
    tokens = stored_tokens(services, "zoom")
    services.store.close()

    raw = Path(settings.store.removeprefix("sqlite:///")).read_bytes()

    assert tokens.access_token and tokens.refresh_token
    assert tokens.access_token.encode() not in raw
    assert tokens.refresh_token.encode() not in raw
    assert b"ProviderGrant" in raw  # the grant is there, sealed


@pytest.mark.datastore
def test_the_grant_is_not_readable_in_clear_in_datastore(datastore_emulator: str, settings: Settings) -> None:
    from google.cloud import datastore

    namespace = f"test-{uuid.uuid4().hex}"
    app = create_app(dataclasses.replace(settings, store="datastore", datastore_namespace=namespace))
    found: Services = app.extensions["addon"]
    try:
        tokens = TokenSet("zoom-access-" + uuid.uuid4().hex, "zoom-refresh-" + uuid.uuid4().hex, START)
        found.meetings.grants.save(ALICE.sub, "zoom", tokens)

        raw = datastore.Client(namespace=namespace).get(
            datastore.Client(namespace=namespace).key("ProviderGrant", ProviderGrant.id_for(ALICE.sub, "zoom"))
        )
        assert raw is not None
        everything = repr(dict(raw))
        assert tokens.access_token not in everything
        assert tokens.refresh_token not in everything
        assert found.meetings.grants.tokens(found.meetings.grants.get(ALICE.sub, "zoom")) == tokens
    finally:
        found.close()


# Dead grants -------------------------------------------------------------------------------


def test_a_revoked_grant_suspends_the_service_and_the_next_card_is_a_one_click_reconnect(
    caller: GoogleCaller,
    google: FakeGoogle,
    client: FlaskClient,
    services: Services,
    zoom: FakeZoom,
) -> None:
    choose(services, "zoom")
    connect(client, services, "zoom")
    services.store.put(UserSettings(user_id=ALICE.sub, provider="zoom", duration_minutes=45))
    zoom.revoke_user("alice@corp.example")

    with pytest.raises(GrantRevoked):
        services.meetings.provider(ALICE.sub, "zoom").create(SPEC, "primary/evt-2")

    grant = services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom"))
    assert grant is not None and grant.status == "revoked"
    assert services.store.get(UserSettings, ALICE.sub).duration_minutes == 45  # nothing else lost
    card = prompt_card(open_message(caller, google))
    assert "Reconnect Zoom" in card_text(card)

    status, _, _ = follow_sign_in(client, sign_in_link(card)["url"])
    assert status == 200
    assert services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom")).status == "active"
    assert services.meetings.provider(ALICE.sub, "zoom").create(SPEC, "primary/evt-2").join_url


def test_concurrent_requests_refresh_a_rotating_token_once(
    client: FlaskClient, services: Services, settings: Settings, zoom: FakeZoom
) -> None:
    connect(client, services, "zoom")
    meeting = services.meetings.provider(ALICE.sub, "zoom").create(SPEC, "primary/evt-3")
    # A second process of the same install: its own threads and locks, the same store.
    other_app = create_app(settings)
    other: Services = other_app.extensions["addon"]
    zoom.expire_access_tokens()
    refreshes_before = zoom.refreshes
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def read(index: int) -> None:
        start.wait()
        owner = services if index % 2 else other
        try:
            outcomes.append(owner.meetings.provider(ALICE.sub, "zoom").get(meeting.meeting_id).join_url)
        except Exception as error:
            outcomes.append(error)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()

    assert outcomes == [meeting.join_url] * 8
    assert zoom.refreshes - refreshes_before == 1
    assert services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom")).status == "active"


# Settings ----------------------------------------------------------------------------------


def test_settings_show_each_service_and_its_account(caller: GoogleCaller, services: Services) -> None:
    response = caller.post("/actions/settings", action_body(caller))

    assert response.status_code == 200
    (card,) = action_cards(response.get_json())
    text = card_text(card)
    assert "Jitsi Meet" in text and "Zoom" in text and "Webex" in text
    assert "Not connected" in text


def test_saving_settings_keeps_the_choice(caller: GoogleCaller, services: Services) -> None:
    body = action_body(caller, {"provider": "webex", "duration_minutes": "45", "webex_site": "https://acme.webex.com/"})

    response = caller.post("/actions/settings/save", body)

    assert response.status_code == 200
    notification = response.get_json()["renderActions"]["action"]["notification"]["text"]
    assert "Connect your Webex account" in notification
    saved = services.store.get(UserSettings, ALICE.sub)
    assert (saved.provider, saved.duration_minutes, saved.webex_site) == ("webex", 45, "acme.webex.com")


@pytest.mark.parametrize(
    "inputs",
    [
        {"provider": "teams", "duration_minutes": "30"},
        {"provider": "zoom", "duration_minutes": "many"},
        {"provider": "zoom", "duration_minutes": "100000"},
    ],
    ids=["unknown-service", "not-a-number", "too-long"],
)
def test_settings_that_make_no_sense_are_refused(
    caller: GoogleCaller, services: Services, inputs: dict[str, str]
) -> None:
    response = caller.post("/actions/settings/save", action_body(caller, inputs))

    assert response.status_code == 400
    assert services.store.get(UserSettings, ALICE.sub) is None


def test_disconnecting_revokes_at_the_service_and_falls_back_to_jitsi(
    caller: GoogleCaller, client: FlaskClient, services: Services, zoom: FakeZoom
) -> None:
    choose(services, "zoom")
    connect(client, services, "zoom")

    response = caller.post("/actions/settings/disconnect", action_body(caller, provider="zoom"))

    assert response.status_code == 200
    assert "Jitsi Meet" in response.get_json()["renderActions"]["action"]["notification"]["text"]
    assert zoom.requests_to("POST", "/oauth/revoke")
    assert services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom")) is None
    assert services.store.get(UserSettings, ALICE.sub).provider == "jitsi"


def test_the_sign_in_card_offers_jitsi_instead(caller: GoogleCaller, google: FakeGoogle, services: Services) -> None:
    choose(services, "zoom")
    card = prompt_card(open_message(caller, google))
    assert "Use Jitsi Meet instead" in card_text(card)

    response = caller.post("/actions/use-provider", action_body(caller, provider="jitsi"))

    assert response.status_code == 200
    (home,) = action_cards(response.get_json())
    assert "Jitsi Meet" in card_text(home)
    assert services.store.get(UserSettings, ALICE.sub).provider == "jitsi"


def test_the_start_page_names_the_google_account_before_leaving(client: FlaskClient, services: Services) -> None:
    from addon.web.signin import sign_in_url

    start = client.get(sign_in_url(services, ALICE.sub, "zoom", ALICE.email).removeprefix("https://addon.test"))

    assert f"for {ALICE.email}" in start.get_data(as_text=True)
    assert "HttpOnly" in start.headers["Set-Cookie"] and "SameSite=Lax" in start.headers["Set-Cookie"]


def test_a_callback_in_another_browser_than_the_one_that_started_is_refused(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    from addon.web.signin import sign_in_url

    start = client.get(sign_in_url(services, ALICE.sub, "zoom").removeprefix("https://addon.test"))
    consent = requests.get(continue_link(start), allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])

    other_browser = app.test_client()
    response = other_browser.get(f"{back.path}?{back.query}")

    assert response.status_code == 400
    assert "another browser" in response.get_data(as_text=True)
    assert services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom")) is None
    # The browser that started it can still finish.
    assert client.get(f"{back.path}?{back.query}").status_code == 200
