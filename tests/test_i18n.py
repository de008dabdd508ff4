"""Languages: every text has a translation in every catalog, and users get cards in their own language and formats."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from addon.meetings.oauth import TokenSet
from addon.store import UserSettings
from cards import accounts, event, home, message, problems, scheduled
from cards.i18n import KEYWORDS, LOCALES_DIR, Text, Translator, available_languages, translator_for
from tests.card_schema import action_cards, card_text, trigger_cards, validate_card
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = sorted(available_languages() - {"en"})
ZURICH = ZoneInfo("Europe/Zurich")

MESSAGE = FakeMessage(
    message_id="msg-f:4242",
    access_token="per-message-4242",
    headers=[
        ("Subject", "Re: Q3 budget review"),
        ("Date", "Fri, 27 Nov 2026 09:15:00 +0000"),
        ("From", '"Doe, Jane" <jane.doe@partner.example>'),
        ("To", "alice@corp.example, bob@corp.example"),
    ],
)
CALENDAR = ALICE.email
EVENT = {
    "id": "evt-i18n",
    "summary": "Design review",
    "start": {"dateTime": "2026-11-27T14:00:00+01:00", "timeZone": "Europe/Zurich"},
    "end": {"dateTime": "2026-11-27T15:30:00+01:00", "timeZone": "Europe/Zurich"},
}
ATTENDEES = [
    {"email": ALICE.email, "organizer": True, "self": True, "responseStatus": "accepted"},
    {"email": "bob@corp.example", "displayName": "Bob Builder", "responseStatus": "declined"},
    {"email": "carol@partner.example", "responseStatus": "tentative", "optional": True},
]


# The catalogs ------------------------------------------------------------------------------


def extracted() -> Catalog:
    """What `pybabel extract -F babel.cfg` finds in the code now."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog()
    for filename, lineno, msgid, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={**DEFAULT_KEYWORDS, **KEYWORDS}
    ):
        catalog.add(msgid, locations=[(filename, lineno)], context=context)
    return catalog


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def template() -> Catalog:
    return read_catalog(LOCALES_DIR / "messages.pot")


def ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_template_holds_exactly_the_texts_in_the_code() -> None:
    in_code, in_template = ids(extracted()), ids(template())

    assert in_code - in_template == set(), "new texts: run pybabel extract, then pybabel update (see README)"
    assert in_template - in_code == set(), "texts no longer in the code: run pybabel extract and pybabel update"


def test_english_is_the_source_and_german_and_french_are_offered() -> None:
    assert {"de", "fr"} <= set(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_with_the_same_placeholders(language: str) -> None:
    catalog = read_catalog(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po", language)
    expected = ids(template())

    assert ids(catalog) == expected, "run pybabel update so the catalog follows the template"
    for msg in catalog:
        if not msg.id:
            continue
        assert not msg.fuzzy, f"{language}: fuzzy {msg.id!r}"
        forms = list(msg.string) if msg.pluralizable else [msg.string]
        sources = list(msg.id) if msg.pluralizable else [msg.id]
        assert len(forms) == (catalog.num_plurals if msg.pluralizable else 1), f"{language}: {msg.id!r}"
        allowed = set().union(*map(placeholders, sources))
        # A singular form may say "one" in words instead of {count}; every other value must be there.
        needed = placeholders(sources[-1]) - {"count"}
        for form in forms:
            assert form and form.strip(), f"{language}: no translation for {msg.id!r}"
            assert needed <= placeholders(form) <= allowed, f"{language}: placeholders differ in {form!r}"
            form.format(**dict.fromkeys(allowed, "x"))
            # Texts land in card HTML unescaped in places: a translation brings no markup of its own.
            for char in "<>&":
                assert char not in form or char in "".join(sources), f"{language}: {char!r} in {form!r}"


@pytest.mark.parametrize(
    ("user_locale", "language"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("de_CH", "de"),
        ("fr-FR", "fr"),
        ("fr-CA", "fr"),
        ("de-DE-u-co-phonebk", "de"),
        ("en-GB", "en"),
        ("en", "en"),
        ("es-ES", "en"),  # no catalog yet: all English, dates included, rather than a mix
        ("xx-YY", "en"),
        ("not a locale", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_users_locale_picks_the_language_and_unknown_ones_fall_back_to_english(
    user_locale: str | None, language: str
) -> None:
    assert translator_for(user_locale).language == language


def test_text_from_a_use_case_is_translated_where_it_is_shown_and_reads_as_english_elsewhere() -> None:
    refusal = Text("This meeting belongs to {owner}. Only they can change or remove it.", owner="bob@corp.example")

    assert str(refusal) == "This meeting belongs to bob@corp.example. Only they can change or remove it."
    assert translator_for("de").text(refusal).startswith("Dieses Meeting gehört bob@corp.example.")
    assert translator_for("fr").text("Zoom's own words") == "Zoom's own words"


# Through the app ---------------------------------------------------------------------------


def in_locale(body: dict[str, Any], user_locale: str) -> dict[str, Any]:
    body["commonEventObject"]["userLocale"] = user_locale
    return body


def open_message(caller: GoogleCaller, google: FakeGoogle, user_locale: str) -> dict[str, Any]:
    google.add_message(MESSAGE)
    body = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token, locale=user_locale)
    (card,) = trigger_cards(caller.post("/gmail/message", body).get_json())
    return card


def open_event(caller: GoogleCaller, google: FakeGoogle, user_locale: str) -> dict[str, Any]:
    google.add_event(CALENDAR, EVENT)
    body = in_locale(caller.calendar_event(CALENDAR, EVENT["id"], attendees=ATTENDEES), user_locale)
    (card,) = trigger_cards(caller.post("/calendar/event-open", body).get_json())
    return card


@pytest.mark.parametrize(
    ("user_locale", "expected"),
    [
        (
            "de",
            [
                "Meeting planen",
                "Betreff",
                "Fr., 27. Nov. 2026, 10:15",
                "30 Minuten",
                "Zeitangaben in der Zeitzone Mitteleuropäische Normalzeit (GMT+01:00).",
            ],
        ),
        (
            "fr-FR",
            [
                "Planifier une réunion",
                "Objet",
                "ven. 27 nov. 2026, 10:15",
                "30 minutes",
                "Heures indiquées en heure normale d’Europe centrale (UTC+01:00).",
            ],
        ),
        ("fr-CA", ["Planifier une réunion", "ven. 27 nov. 2026, 10 h 15"]),
        ("xx-YY", ["Schedule a meeting", "Subject", "Fri 27 Nov 2026, 10:15", "Europe/Zurich (UTC+01:00)"]),
    ],
)
def test_the_message_card_speaks_the_users_language(
    caller: GoogleCaller, google: FakeGoogle, user_locale: str, expected: list[str]
) -> None:
    text = card_text(open_message(caller, google, user_locale))

    for part in expected:
        assert part in text


@pytest.mark.parametrize(
    ("user_locale", "expected"),
    [
        ("de-AT", ["Kalendertermin", "Fr., 27. Nov. 2026, 14:00 – 15:30", "Gäste (3)", "Abgesagt", "Vielleicht"]),
        ("fr", ["Événement d’agenda", "ven. 27 nov. 2026, 14:00 – 15:30", "Invités (3)", "Refusé", "Peut-être"]),
        ("xx-YY", ["Calendar event", "Fri 27 Nov 2026, 14:00 – 15:30", "Guests (3)", "Declined", "Maybe"]),
    ],
)
def test_the_event_card_speaks_the_users_language(
    caller: GoogleCaller, google: FakeGoogle, user_locale: str, expected: list[str]
) -> None:
    text = card_text(open_event(caller, google, user_locale))

    for part in expected:
        assert part in text


@pytest.mark.parametrize(
    ("user_locale", "title", "reference"),
    [
        ("de", "Dieser Termin existiert nicht mehr", "Referenz: "),
        ("fr-FR", "Cet événement n’existe plus", "Référence\u00a0: "),
        ("xx-YY", "This event no longer exists", "Reference: "),
    ],
)
def test_a_problem_card_speaks_the_users_language(
    caller: GoogleCaller, user_locale: str, title: str, reference: str
) -> None:
    body = in_locale(caller.calendar_event(CALENDAR, "gone"), user_locale)

    (card,) = trigger_cards(caller.post("/calendar/event-open", body).get_json())

    assert card["header"]["title"] == title
    assert reference in card_text(card)


def schedule_body(caller: GoogleCaller, user_locale: str, start: datetime) -> dict[str, Any]:
    body = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token, locale=user_locale)
    inputs = {"title": ["Budget"], "participants": ["jane.doe@partner.example"], "duration": ["30"]}
    body["commonEventObject"]["formInputs"] = {
        **{name: {"stringInputs": {"value": values}} for name, values in inputs.items()},
        "start": {"dateTimeInput": {"msSinceEpoch": int(start.timestamp() * 1000)}},
    }
    return body


def test_a_use_cases_refusal_reaches_the_form_and_the_notification_translated(
    caller: GoogleCaller, google: FakeGoogle
) -> None:
    google.add_message(MESSAGE)
    past = datetime.now(UTC) - timedelta(hours=2)

    answer = caller.post("/actions/schedule-from-email", schedule_body(caller, "de", past)).get_json()

    (card,) = action_cards(answer)
    said = "Dieser Zeitpunkt liegt in der Vergangenheit."
    assert said in card_text(card)
    assert answer["renderActions"]["action"]["notification"]["text"].startswith(said)


def test_a_services_own_words_are_kept_inside_the_translated_frame(
    caller: GoogleCaller, google: FakeGoogle, app: Flask, zoom: FakeZoom
) -> None:
    services = app.extensions["addon"]
    services.store.put(UserSettings(user_id=ALICE.sub, provider="zoom"))
    tokens = zoom.connect(ALICE.email)
    grant = TokenSet(tokens["access_token"], tokens["refresh_token"], datetime.now(UTC) + timedelta(hours=1))
    services.meetings.grants.save(ALICE.sub, "zoom", grant)
    google.add_message(MESSAGE)
    zoom.fail("/v2/users/me/meetings", 400, body={"code": 300, "message": "Invalid field."}, method="POST")
    start = datetime.now(UTC) + timedelta(days=3)

    answer = caller.post("/actions/schedule-from-email", schedule_body(caller, "fr", start)).get_json()

    assert "Réponse de Zoom\u00a0: Invalid field." in card_text(action_cards(answer)[0])


def test_a_scheduled_meeting_is_confirmed_in_the_users_language(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.add_message(MESSAGE)
    start = datetime.now(UTC) + timedelta(days=3)

    answer = caller.post("/actions/schedule-from-email", schedule_body(caller, "de", start)).get_json()

    (card,) = action_cards(answer)
    assert card["header"]["subtitle"] == "Meeting geplant"
    assert answer["renderActions"]["action"]["notification"]["text"].startswith("Jitsi Meet-Meeting geplant")


def test_the_homepage_says_how_calendar_changes_reach_meetings_in_the_users_language(caller: GoogleCaller) -> None:
    (card,) = trigger_cards(caller.post("/calendar/home", caller.event("CALENDAR", locale="fr")).get_json())

    text = card_text(card)
    assert "Durée par défaut" in text and "30 minutes" in text
    assert "Modifications dans Agenda" in text


def test_the_sign_in_window_follows_the_browsers_language(client: FlaskClient) -> None:
    response = client.get("/connect/zoom/start?ticket=forged", headers={"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html lang=de>" in page and "Dieser Link ist abgelaufen" in page


@pytest.mark.parametrize("user_locale", ["de", "fr-CA", "xx-YY"])
def test_every_trigger_answers_with_valid_cards_in_every_language(caller: GoogleCaller, user_locale: str) -> None:
    bodies = caller.trigger_events(message=("msg-f:missing", "t"), event=("primary", "e1"))

    for path, body in bodies.items():
        response = caller.post(path, in_locale(body, user_locale))
        assert response.status_code == 200, path
        answer = response.get_json()
        cards = action_cards(answer) if "renderActions" in answer else trigger_cards(answer)
        assert cards, path


# Every card builder, in every language, against the strict schema --------------------------

START = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
GUESTS = [
    event.Guest("bob@corp.example", "Bob", "declined", organizer=True),
    event.Guest("carol@partner.example", None, "tentative", optional=True),
    *[event.Guest(f"guest{i}@corp.example", None, None) for i in range(60)],
]
PANEL = event.MeetingPanel(
    service="Zoom",
    join_url="https://zoom.example/j/1",
    add_url="https://addon.test/a",
    update_url="https://addon.test/u",
    remove_url="https://addon.test/r",
    outdated=True,
    sync_status=Text("Automatic: changes in Calendar reach the meeting within a minute."),
    series_note="Every occurrence uses this one Zoom room.",
)
FORM = message.ScheduleForm(
    title="Budget",
    participants=[message.Participant("jane@partner.example", "Jane")],
    chosen=frozenset({"jane@partner.example"}),
    start=START.astimezone(ZURICH),
    duration_minutes=30,
    zone=ZURICH,
    submit_url="https://addon.test/s",
    error_field="start",
    error=Text("That time has passed. Choose a start in the future."),
)
SERVICES = [
    accounts.ServiceChoice("jitsi", "Jitsi Meet", "not_needed"),
    accounts.ServiceChoice("zoom", "Zoom", "connected"),
    accounts.ServiceChoice("webex", "Webex", "revoked", "https://addon.test/connect/webex/start"),
]


def every_card(tr: Translator) -> dict[str, dict[str, Any]]:
    """Each card builder, with data that reaches its optional parts."""
    view = event.EventView(
        title="Review",
        start=START,
        end=START + timedelta(hours=1),
        all_day=False,
        zone=ZURICH,
        can_see_guests=True,
        guests=GUESTS,
        can_see_conference=True,
        conference_name="Meet",
        join_points=[event.JoinPoint("video", "https://meet.google.com/x", None), event.JoinPoint("sip", "x:y", None)],
        meeting=PANEL,
    )
    all_day = event.EventView("", START, None, True, ZURICH, False, [], False, None, [])
    settings = accounts.SettingsForm("zoom", SERVICES, 30, None, "/save", "/off", locked=frozenset({"provider"}))
    defaults = home.HomeDefaults("Zoom", "revoked", 45, "Europe/Zurich", PANEL.sync_status, ("Zoom", "https://c"))
    done = scheduled.ScheduledView(
        title="Budget",
        service="Webex",
        join_url="https://webex.example/j",
        start=START,
        end=START + timedelta(days=1, hours=1),
        zone=ZURICH,
        attendees=["jane@partner.example"],
        meeting_code="123",
        passcode="abc",
        dial_in=[("Switzerland toll", "+41 44 000 00 00"), ("", "+1 555 0100")],
        calendar_url="https://calendar.google.com/e",
    )
    return {
        "connect": accounts.connect_card(tr, "Zoom", "https://c", revoked=True, use_jitsi_url="https://j"),
        "first connect": accounts.connect_card(tr, "Zoom", "https://c", revoked=False),
        "settings": accounts.settings_card(tr, settings),
        "event": event.event_card(tr, view),
        "all-day event": event.event_card(tr, all_day),
        "unsaved event": event.unsaved_event_card(tr, 1),
        "home": home.home_card(tr, "CALENDAR", ALICE.email, defaults, "https://s"),
        "message": message.message_card(tr, "", START, FORM),
        "scheduled": scheduled.scheduled_card(tr, done),
        "unreadable": problems.message_unreadable(tr, "req-1"),
        "gone": problems.event_gone(tr, "req-1"),
        "expired": problems.session_expired(tr, "req-1"),
        "google down": problems.google_unavailable(tr, "req-1"),
        "google busy": problems.google_busy(tr, "req-1"),
        "google busy, meeting kept": problems.google_busy(tr, "req-1", tr("Nothing was changed.")),
        "google limit": problems.google_limit_reached(tr, "req-1"),
        "permission": problems.permission_missing(tr, "req-1"),
        "unexpected": problems.unexpected(tr, "req-1"),
        "busy": problems.meeting_service_busy(tr, "Zoom", 30, "req-1"),
        "busy for long": problems.meeting_service_busy(tr, "Zoom", 600, "req-1"),
        "service down": problems.meeting_service_unavailable(tr, "Webex", "req-1"),
        "meeting gone": problems.meeting_gone(tr, "Webex", "req-1"),
        "rejected": problems.meeting_rejected(tr, "Zoom", "", "req-1"),
        "not offered": problems.service_not_offered(tr, "Webex"),
        "store down": problems.store_unavailable(tr, "req-1"),
    }


@pytest.mark.parametrize("user_locale", ["en", "de", "fr", "fr-CA"])
def test_every_card_is_valid_in_every_language(user_locale: str) -> None:
    for name, card in every_card(translator_for(user_locale)).items():
        try:
            validate_card(card)
        except Exception as error:
            raise AssertionError(f"{name} in {user_locale}: {error}") from error
