"""Gmail: the homepage and an opened message, through the app and a fake Gmail over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from addon import scopes
from addon.store import UserSettings
from addon.web.gmail import meeting_title, next_half_hour
from tests.card_schema import card_text, requested_scopes, trigger_cards
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.google_caller import ALICE, GoogleCaller

MESSAGE = FakeMessage(
    message_id="msg-f:1786543210987654321",
    access_token="per-message-token-1",
    headers=[
        ("Subject", "Re: Fwd: Q3 budget review"),
        ("Date", "Mon, 23 Nov 2026 09:15:00 +0000"),
        ("From", '"Doe, Jane" <jane.doe@partner.example>'),
        ("To", "Alice Example <ALICE@corp.example>, bob@corp.example"),
        ("Cc", '"Chen, Wei (Finance)" <wei.chen@corp.example>, jane.doe@partner.example'),
        ("Received", "from mail.partner.example"),
    ],
)


def widgets(card: dict) -> list[dict]:
    return [w for s in card["sections"] for w in s["widgets"]]


def widget(card: dict, kind: str, name: str) -> dict:
    return next(w[kind] for w in widgets(card) if kind in w and w[kind].get("name") == name)


def open_message(caller: GoogleCaller, google: FakeGoogle, **kwargs: object) -> dict:
    google.add_message(MESSAGE)
    event = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token, **kwargs)
    response = caller.post("/gmail/message", event)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_homepage_shows_who_is_signed_in_and_their_defaults(caller: GoogleCaller) -> None:
    response = caller.post("/gmail/home", caller.event("GMAIL"))

    (card,) = trigger_cards(response.get_json())
    text = card_text(card)
    assert ALICE.email in text
    assert "Jitsi Meet" in text and "30 minutes" in text
    assert "Open an email" in text


def test_homepage_reflects_stored_settings(caller: GoogleCaller, app: object) -> None:
    app.extensions["addon"].store.put(UserSettings(user_id=ALICE.sub, provider="zoom", duration_minutes=45))

    (card,) = trigger_cards(caller.post("/gmail/home", caller.event("GMAIL")).get_json())

    assert "Zoom" in card_text(card) and "45 minutes" in card_text(card)


def test_message_card_offers_to_schedule_with_the_other_participants(caller: GoogleCaller, google: FakeGoogle) -> None:
    (card,) = trigger_cards(open_message(caller, google))

    assert "Q3 budget review" in card_text(card)
    assert widget(card, "textInput", "title")["value"] == "Q3 budget review"
    invite = widget(card, "selectionInput", "participants")
    assert invite["type"] == "CHECK_BOX"
    # Quoted commas stay inside names; the user is left out; duplicates collapse.
    assert [(i["value"], i["selected"]) for i in invite["items"]] == [
        ("jane.doe@partner.example", True),
        ("bob@corp.example", True),
        ("wei.chen@corp.example", True),
    ]
    assert invite["items"][0]["text"] == "Doe, Jane <jane.doe@partner.example>"
    assert invite["items"][2]["text"] == "Chen, Wei (Finance) <wei.chen@corp.example>"


def test_a_date_header_far_out_of_range_does_not_break_the_card(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(
        FakeMessage(
            "msg-f:odd-date",
            "tok",
            [("Subject", "From the future"), ("Date", "Fri, 31 Dec 9999 23:00:00 -1200"), ("From", "bob@corp.example")],
        )
    )

    (card,) = trigger_cards(caller.post("/gmail/message", caller.gmail_event("msg-f:odd-date", "tok")).get_json())

    assert "From the future" in card_text(card)
    assert "9999" not in card_text(card)  # the date Gmail received it is shown instead


def test_message_card_starts_at_the_next_half_hour_in_the_users_zone(caller: GoogleCaller, google: FakeGoogle) -> None:
    before = datetime.now(UTC)
    (card,) = trigger_cards(open_message(caller, google, time_zone="Asia/Kolkata"))

    picker = widget(card, "dateTimePicker", "start")
    start = datetime.fromtimestamp(picker["valueMsEpoch"] / 1000, ZoneInfo("Asia/Kolkata"))
    assert picker["type"] == "DATE_AND_TIME"
    assert picker["timezoneOffsetDate"] == 330
    assert start.minute in (0, 30) and start.second == 0
    assert 0 < (start - before).total_seconds() <= 30 * 60
    assert "Asia/Kolkata (UTC+05:30)" in card_text(card)
    duration = widget(card, "selectionInput", "duration")
    assert [i["value"] for i in duration["items"] if i["selected"]] == ["30"]


def test_message_is_read_with_metadata_only_and_the_per_message_token(caller: GoogleCaller, google: FakeGoogle) -> None:
    open_message(caller, google)

    (request,) = google.requests_to("/gmail/")
    assert request.headers["Authorization"] == f"Bearer {ALICE.oauth_token}"
    assert request.headers["X-Goog-Gmail-Access-Token"] == MESSAGE.access_token
    assert request.args["format"] == "metadata"
    assert set(request.args.getlist("metadataHeaders")) == {"Subject", "Date", "From", "To", "Cc"}


def test_message_form_submits_to_an_https_action_with_a_spinner(caller: GoogleCaller, google: FakeGoogle) -> None:
    (card,) = trigger_cards(open_message(caller, google))

    action = card["fixedFooter"]["primaryButton"]["onClick"]["action"]
    assert action["function"] == caller.settings.base_url + "/actions/schedule-from-email"
    assert action["loadIndicator"] == "SPINNER"


def test_deleted_message_gets_a_card_that_says_so(caller: GoogleCaller, google: FakeGoogle) -> None:
    event = caller.gmail_event("msg-f:gone", "token")

    response = caller.post("/gmail/message", event)

    assert response.status_code == 200
    (card,) = trigger_cards(response.get_json())
    assert "Can't read this email" in card_text(card)


def test_wrong_per_message_token_gets_a_card_not_an_error(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(MESSAGE)
    event = caller.gmail_event(MESSAGE.message_id, "stale-token")

    (card,) = trigger_cards(caller.post("/gmail/message", event).get_json())

    assert "Can't read this email" in card_text(card)


def test_expired_google_token_asks_to_reopen(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(MESSAGE)
    event = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token)
    event["authorizationEventObject"]["userOAuthToken"] = "ya29.expired"

    (card,) = trigger_cards(caller.post("/gmail/message", event).get_json())

    assert "session expired" in card_text(card)


def test_gmail_hiccups_are_retried(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.fail("/gmail/", 503, times=1)
    google.fail("/gmail/", 429, times=1)

    (card,) = trigger_cards(open_message(caller, google))

    assert "Q3 budget review" in card_text(card)
    assert len(google.requests_to("/gmail/")) == 3


def test_gmail_down_gets_a_try_again_card_with_the_request_id(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.fail("/gmail/", 503, times=10)
    google.add_message(MESSAGE)

    response = caller.post("/gmail/message", caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token))

    (card,) = trigger_cards(response.get_json())
    assert "not answering" in card_text(card)
    assert response.headers["X-Request-Id"] in card_text(card)
    assert len(google.requests_to("/gmail/")) == 3  # one try and two retries, then give up


def test_bad_requests_are_not_retried(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.fail("/gmail/", 400, times=5)
    google.add_message(MESSAGE)

    trigger_cards(
        caller.post("/gmail/message", caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token)).get_json()
    )

    assert len(google.requests_to("/gmail/")) == 1


def test_missing_message_scope_asks_for_exactly_the_missing_scopes(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(MESSAGE)
    granted = scopes.ALL - {scopes.GMAIL_MESSAGE_METADATA, scopes.LOCALE}
    event = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token, granted=granted)

    response = caller.post("/gmail/message", event)

    # The locale only improves formatting, so it is not asked for again.
    assert requested_scopes(response.get_json()) == {scopes.GMAIL_MESSAGE_METADATA}
    assert google.requests_to("/gmail/") == []


def test_a_user_who_declined_the_locale_scope_still_gets_the_message_in_utc(
    caller: GoogleCaller, google: FakeGoogle
) -> None:
    google.add_message(MESSAGE)
    event = caller.gmail_event(
        MESSAGE.message_id, MESSAGE.access_token, granted=scopes.ALL - {scopes.LOCALE}, time_zone=None
    )

    (card,) = trigger_cards(caller.post("/gmail/message", event).get_json())

    assert "Q3 budget review" in card_text(card)


def test_without_the_locale_the_users_calendar_zone_is_used(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(MESSAGE)
    google.state.calendar_zones["primary"] = "America/New_York"
    event = caller.gmail_event(
        MESSAGE.message_id, MESSAGE.access_token, granted=scopes.ALL - {scopes.LOCALE}, time_zone=None
    )

    (card,) = trigger_cards(caller.post("/gmail/message", event).get_json())
    caller.post("/gmail/message", event)

    assert "America/New_York" in card_text(card)
    assert len(google.requests_to("/calendar/v3/calendars/primary/events")) == 1  # cached per user


def test_cards_that_show_no_time_never_look_up_the_zone(caller: GoogleCaller, google: FakeGoogle) -> None:
    for path, host in (("/gmail/home", "GMAIL"), ("/actions/settings", "GMAIL"), ("/calendar/home", "CALENDAR")):
        event = caller.event(host, granted=scopes.ALL - {scopes.LOCALE}, time_zone=None)
        assert caller.post(path, event).status_code == 200

    assert google.requests_to("/calendar/v3/calendars/primary/events") == []


def test_a_zone_calendar_could_not_tell_is_not_asked_again_on_every_request(
    caller: GoogleCaller, google: FakeGoogle
) -> None:
    google.add_message(MESSAGE)
    google.fail("/calendar/v3/calendars/primary/events", 503, times=100)
    event = caller.gmail_event(
        MESSAGE.message_id, MESSAGE.access_token, granted=scopes.ALL - {scopes.LOCALE}, time_zone=None
    )

    first = caller.post("/gmail/message", event)
    tried = len(google.requests_to("/calendar/v3/calendars/primary/events"))
    second = caller.post("/gmail/message", event)

    assert first.status_code == second.status_code == 200
    assert "UTC" in card_text(trigger_cards(second.get_json())[0])
    assert tried >= 1 and len(google.requests_to("/calendar/v3/calendars/primary/events")) == tried


def test_without_the_email_scope_the_user_is_asked_for_it(caller: GoogleCaller) -> None:
    event = caller.event("GMAIL", granted=scopes.ALL - {scopes.USERINFO_EMAIL})
    del event["authorizationEventObject"]["userIdToken"]

    response = caller.post("/gmail/home", event)

    assert requested_scopes(response.get_json()) == {scopes.USERINFO_EMAIL}


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Re: Fwd: Q3 budget", "Q3 budget"),
        ("AW: WG: Angebot", "Angebot"),
        ("RE:RE: lunch", "lunch"),
        ("Re[2]: plan", "plan"),
        ("Regarding the plan", "Regarding the plan"),
        ("", "Meeting"),
    ],
)
def test_meeting_title_drops_reply_prefixes(subject: str, title: str) -> None:
    assert meeting_title(subject) == title


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        ("2026-11-23T09:10:00+00:00", "Europe/Zurich", "2026-11-23T10:30:00+01:00"),
        ("2026-11-23T09:30:00+00:00", "Europe/Zurich", "2026-11-23T11:00:00+01:00"),
        ("2026-11-23T09:59:59+00:00", "UTC", "2026-11-23T10:00:00+00:00"),
        ("2026-11-23T09:20:00+00:00", "Asia/Kathmandu", "2026-11-23T15:30:00+05:45"),
        # Spring forward in Zurich: 02:00 local does not exist, the next half hour is 03:00 CEST.
        ("2026-03-29T00:40:00+00:00", "Europe/Zurich", "2026-03-29T03:00:00+02:00"),
    ],
)
def test_next_half_hour_is_on_the_users_wall_clock(now: str, zone: str, expected: str) -> None:
    assert next_half_hour(datetime.fromisoformat(now), ZoneInfo(zone)).isoformat() == expected
