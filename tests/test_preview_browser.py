"""The local preview page in a real browser: Chromium clicks through the add-on's cards as a user would.

The add-on runs for real in development mode (scripts/run's mode) under gunicorn; the page calls it through
/preview/api. A few tests stand in for the add-on with Playwright routes, to show the page the answers and
widgets the add-on does not produce today. A script error or a console error on the page fails any test.
Each test saves a screenshot of its final state in tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, Route, expect

from addon.web.devhost import STATIC
from tests.live_server import CHROMIUM, free_port, launched_chromium, running_gunicorn

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ZONE = "Europe/Zurich"
# Words a German email card holds some of ("30 Minuten", "Einladung per E-Mail an Gäste senden").
GERMAN_WORDS = ("Besprechung", "Termin", "Minuten", "Einladung", "Teilnehmer")
JOIN_URL = re.compile(r"^https://meet\.jit\.si/\w+")

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="Chromium missing: scripts/test installs it")


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The add-on in development mode, one gunicorn process (so one sample mailbox) with threads."""
    tmp = tmp_path_factory.mktemp("preview")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADDON_", "ZOOM_", "WEBEX_"))}
    env.update(
        {
            "ADDON_ENV": "development",
            "ADDON_BASE_URL": f"http://127.0.0.1:{port}",
            "ADDON_STORE": f"sqlite:///{tmp / 'addon.db'}",
        }
    )
    # The add-on calls its own sample Google over HTTP while it answers, so it needs threads.
    with running_gunicorn(env, port, tmp / "gunicorn.log", "-k", "gthread", "--threads", "8", "-w", "1") as root:
        yield root


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, preview: str) -> Iterator[Page]:
    """The preview page in a fresh browser in Zurich; fails the test on any script or console error."""
    context = new_context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(preview + "/preview")
    expect(page.get_by_role("button", name="Open the add-on")).to_be_visible()
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def new_context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=ZONE, locale="en-US")


def watch_errors(page: Page) -> list[str]:
    """Every script error and console error the page reports from now on (a module that fails to load is either)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def side_panel(page: Page) -> Locator:
    return page.get_by_role("complementary", name="Add-on side panel")


def toast(page: Page) -> Locator:
    return page.get_by_role("status")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def settled(page: Page) -> None:
    """Wait until no call to the add-on is running."""
    expect(page.locator(".sidepanel")).to_have_attribute("aria-busy", "false")


def test_the_page_loads_every_module_as_javascript_and_starts_without_errors(browser: Browser, preview: str) -> None:
    context = new_context(browser)
    page = context.new_page()
    errors = watch_errors(page)
    served: dict[str, str] = {}

    def record(response: Response) -> None:
        if response.url.endswith(".js"):
            served[urlsplit(response.url).path] = response.headers.get("content-type", "")

    page.on("response", record)

    page.goto(preview + "/preview")
    expect(page.locator("#user")).to_contain_text("@")  # main.js ran to its end
    context.close()

    modules = {"/preview/static/" + path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*.js")}
    assert set(served) == modules, "every module under static/ is one the page imports"
    assert all(re.match(r"(text|application)/javascript\b", kind) for kind in served.values()), served
    assert not errors, errors


@pytest.mark.parametrize(
    ("failure", "reported"),
    [("missing", "status of 404"), ("served as text/plain", "MIME type")],
)
def test_a_module_the_browser_cannot_load_is_an_error_that_fails_the_page_tests(
    browser: Browser, preview: str, failure: str, reported: str
) -> None:
    context = new_context(browser)
    page = context.new_page()
    errors = watch_errors(page)

    def broken(route: Route) -> None:
        if failure == "missing":
            route.fulfill(status=404, body="not found")
        else:
            real = route.fetch()
            route.fulfill(response=real, headers={**real.headers, "content-type": "text/plain"})

    page.route("**/preview/static/js/time.js", broken)
    page.goto(preview + "/preview", wait_until="networkidle")
    started = page.locator("#user").text_content()
    context.close()

    assert started == "", "no module runs unless everything it imports loads"
    assert any(reported in error for error in errors), errors


def test_scheduling_from_an_email_gives_a_join_link_and_an_event_in_calendar(page: Page) -> None:
    """Screenshots: tests/artifacts/preview-scheduled-from-email.png, preview-scheduled-event-in-calendar.png."""
    panel = side_panel(page)
    expect(page.get_by_label("Time zone")).to_have_value(ZONE)

    page.get_by_role("button", name=re.compile(r"^Sam Lee Project kickoff")).click()
    expect(panel.get_by_role("heading", name="Schedule a meeting")).to_be_visible()
    expect(panel.get_by_role("checkbox", name="Sam Lee <sam@partner.example>")).to_be_checked()
    expect(panel.get_by_role("checkbox", name="Kim Park <kim@partner.example>")).to_be_checked()
    start = datetime.fromisoformat(panel.get_by_label("Starts").input_value())
    panel.get_by_label("Length").select_option("45")
    panel.get_by_role("button", name="Schedule meeting").click()

    expect(panel.get_by_text("Meeting scheduled", exact=True)).to_be_visible()
    join = panel.get_by_role("link", name="Join")
    expect(join).to_have_attribute("href", JOIN_URL)
    expect(join).to_have_attribute("target", "_blank")
    when = panel.locator(".decorated", has_text="When")
    expect(when).to_contain_text(f"{start:%H:%M}")
    expect(when).to_contain_text(f"{start + timedelta(minutes=45):%H:%M}")
    expect(toast(page)).to_contain_text("meeting scheduled")
    screenshot(page, "preview-scheduled-from-email")
    join_url = join.get_attribute("href")

    page.get_by_role("button", name="Calendar", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Project kickoff")).click()
    expect(panel.get_by_role("heading", name="Project kickoff")).to_be_visible()
    expect(panel.get_by_role("link", name="Join")).to_have_attribute("href", join_url or "")
    expect(panel.get_by_role("button", name="Remove meeting")).to_be_visible()
    expect(panel.get_by_role("checkbox")).to_have_count(0)
    screenshot(page, "preview-scheduled-event-in-calendar")


def test_adding_a_meeting_to_an_open_event_offers_join_and_remove(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-meeting-added-to-event.png."""
    panel = side_panel(page)
    page.get_by_role("button", name="Calendar", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Design review")).click()
    add = panel.get_by_role("button", name="Add Jitsi Meet meeting")
    expect(add).to_be_visible()
    page.evaluate(
        """() => {
            const spinner = document.getElementById("spinner");
            new MutationObserver(() => { if (!spinner.hidden) window.spinnerShown = true; })
                .observe(spinner, {attributes: true});
        }"""
    )

    add.click()

    expect(panel.get_by_role("link", name="Join").first).to_have_attribute("href", JOIN_URL)
    expect(panel.get_by_role("button", name="Remove meeting")).to_be_visible()
    expect(toast(page)).to_contain_text("meeting added to the event")
    assert page.evaluate("window.spinnerShown === true"), "the action asks for a spinner while it runs"
    expect(page.locator("#spinner")).to_be_hidden()

    page.get_by_role("button", name="Save event").click()
    settled(page)
    expect(panel.get_by_role("button", name="Remove meeting")).to_be_visible()
    expect(panel.get_by_role("alert")).to_have_count(0)
    screenshot(page, "preview-meeting-added-to-event")


def test_an_event_edited_and_saved_with_the_add_on_open_takes_its_meeting_along(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-event-edited-and-saved.png."""
    panel = side_panel(page)
    page.get_by_role("button", name="Calendar", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Focus time")).click()
    panel.get_by_role("button", name="Add Jitsi Meet meeting").click()
    expect(panel.get_by_role("button", name="Remove meeting")).to_be_visible()
    editor = page.get_by_role("form", name="Edit event")
    expect(editor.get_by_label("Title")).to_have_value("Focus time")
    start = datetime.fromisoformat(editor.get_by_label("Starts").input_value()) + timedelta(days=1, hours=2)

    editor.get_by_label("Title").fill("Focus time, moved")
    editor.get_by_label("Starts").fill(f"{start:%Y-%m-%dT%H:%M}")
    editor.get_by_label("Length (minutes)").fill("45")
    editor.get_by_role("button", name="Save event").click()

    expect(toast(page)).to_have_text("The meeting now matches the event.")
    expect(panel.get_by_role("heading", name="Focus time, moved")).to_be_visible()
    when = panel.locator(".decorated", has_text=re.compile(r"^When"))
    expect(when).to_contain_text(f"{start:%H:%M}")
    expect(when).to_contain_text(f"{start + timedelta(minutes=45):%H:%M}")
    expect(page.get_by_role("button", name=re.compile(r"^Focus time, moved"))).to_be_visible()
    expect(editor.get_by_label("Title")).to_have_value("Focus time, moved")
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "preview-event-edited-and-saved")


def test_settings_open_from_the_menu_and_back_returns_to_the_home_card(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-settings.png."""
    panel = side_panel(page)
    page.get_by_role("button", name="Open the add-on").click()
    expect(panel.get_by_role("heading", name="Meeting Scheduler")).to_be_visible()
    expect(panel.get_by_role("button", name="Back")).to_be_hidden()

    panel.get_by_role("button", name="More options").click()
    panel.get_by_role("menuitem", name="Settings").click()

    expect(panel.get_by_role("heading", name="Settings")).to_be_visible()
    expect(panel.get_by_label("Meeting service")).to_have_value("jitsi")
    screenshot(page, "preview-settings")
    panel.get_by_role("button", name="Back").click()
    expect(panel.get_by_role("heading", name="Meeting Scheduler")).to_be_visible()
    expect(panel.get_by_role("button", name="Back")).to_be_hidden()


def test_the_german_locale_shows_the_cards_in_german(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-german.png."""
    panel = side_panel(page)
    card = page.locator("#panel")
    page.get_by_role("button", name=re.compile(r"^Sam Lee Project kickoff")).click()
    expect(card.get_by_role("heading", name="Schedule a meeting")).to_be_visible()
    english = card.inner_text()

    with page.expect_response("**/preview/api/open"):
        page.get_by_label("Language").select_option("de")
    settled(page)

    expect(card).to_have_attribute("lang", "de")
    german = card.inner_text()
    screenshot(page, "preview-german")
    assert german != english
    assert any(word in german for word in GERMAN_WORDS), german
    expect(panel.get_by_role("alert")).to_have_count(0)


# ---------------------------------------------------------------------------------------------------
# The page against answers the add-on does not give today, served by Playwright routes.

Answer = dict[str, Any]


def fake_addon(page: Page, answers: dict[str, Answer | Callable[[dict[str, Any]], Answer]]) -> list[dict[str, Any]]:
    """Answer /preview/api/open and /preview/api/invoke from `answers` (keyed "open" or by action URL)."""
    calls: list[dict[str, Any]] = []

    def handle(route: Route) -> None:
        body = route.request.post_data_json
        calls.append(body)
        answer = answers["open" if route.request.url.endswith("/open") else body["function"]]
        result = answer(body) if callable(answer) else answer
        route.fulfill(status=200, content_type="application/json", body=json.dumps(result))

    page.route("**/preview/api/open", handle)
    page.route("**/preview/api/invoke", handle)
    return calls


def pushed(card: Answer) -> Answer:
    return {"status": 200, "body": {"action": {"navigations": [{"pushCard": card}]}}}


def rendered(**action: Any) -> Answer:
    return {"status": 200, "body": {"renderActions": {"action": action}}}


def click(url: str, parameters: dict[str, str] | None = None, **extra: Any) -> Answer:
    action = {"function": url, "parameters": [{"key": k, "value": v} for k, v in (parameters or {}).items()]}
    return {"onClick": {"action": {**action, **extra}}}


SUBMIT = "https://addon.example/submit"
FORM_CARD = {
    "name": "form",
    "header": {"title": "Every input"},
    "sections": [
        {
            "widgets": [
                {"textInput": {"name": "note", "label": "Note", "type": "MULTIPLE_LINE"}},
                {
                    "selectionInput": {
                        "name": "room",
                        "label": "Room",
                        "type": "RADIO_BUTTON",
                        "items": [
                            {"text": "Small", "value": "s", "selected": True},
                            {"text": "Large", "value": "l", "selected": False},
                        ],
                    }
                },
                {
                    "selectionInput": {
                        "name": "record",
                        "label": "Recording",
                        "type": "SWITCH",
                        "items": [{"text": "Record the meeting", "value": "yes", "selected": False}],
                    }
                },
                {
                    "dateTimePicker": {
                        "name": "start",
                        "label": "Starts",
                        "type": "DATE_AND_TIME",
                        "valueMsEpoch": int(datetime(2026, 12, 24, 9, 0, tzinfo=UTC).timestamp() * 1000),
                        "timezoneOffsetDate": 60,
                    }
                },
                {"dateTimePicker": {"name": "day", "label": "Day", "type": "DATE_ONLY"}},
                {"dateTimePicker": {"name": "at", "label": "At", "type": "TIME_ONLY"}},
                {"divider": {}},
            ]
        }
    ],
    "fixedFooter": {"primaryButton": {"text": "Send", **click(SUBMIT, {"step": "1"}, requiredWidgets=["note"])}},
}


def test_form_inputs_reach_the_add_on_in_googles_shape(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-form-inputs.png."""
    panel = side_panel(page)
    next_card = {"header": {"title": "Sent"}, "sections": [{"widgets": [{"textParagraph": {"text": "Thanks"}}]}]}
    calls = fake_addon(page, {"open": pushed(FORM_CARD), SUBMIT: rendered(navigations=[{"pushCard": next_card}])})
    page.get_by_role("button", name="Open the add-on").click()
    expect(panel.get_by_label("Starts")).to_have_value("2026-12-24T10:00")

    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_text("Required")).to_be_visible()
    assert len(calls) == 1, "a required field left empty stops the submit"

    panel.get_by_label("Note").fill("Bring slides")
    panel.get_by_role("radio", name="Large").check()
    panel.get_by_role("switch", name="Record the meeting").check()
    panel.get_by_label("Starts").fill("2026-12-24T11:30")
    panel.get_by_label("Day").fill("2026-12-25")
    panel.get_by_label("At").fill("09:45")
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_role("heading", name="Sent")).to_be_visible()

    sent = calls[-1]
    assert sent["function"] == SUBMIT and sent["parameters"] == {"step": "1"}
    assert sent["context"]["trigger"] == "home" and sent["context"]["timeZone"] == ZONE
    assert sent["formInputs"] == {
        "note": {"stringInputs": {"value": ["Bring slides"]}},
        "room": {"stringInputs": {"value": ["l"]}},
        "record": {"stringInputs": {"value": ["yes"]}},
        "start": {
            "dateTimeInput": {
                "msSinceEpoch": int(datetime(2026, 12, 24, 10, 30, tzinfo=UTC).timestamp() * 1000),
                "hasDate": True,
                "hasTime": True,
            }
        },
        "day": {"dateInput": {"msSinceEpoch": int(datetime(2026, 12, 25, tzinfo=UTC).timestamp() * 1000)}},
        "at": {"timeInput": {"hours": 9, "minutes": 45}},
    }
    panel.get_by_role("button", name="Back").click()
    expect(panel.get_by_role("heading", name="Every input")).to_be_visible()
    expect(panel.get_by_label("Note")).to_have_value("Bring slides")
    screenshot(page, "preview-form-inputs")


def test_card_text_is_shown_with_only_the_add_on_html_subset(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-card-text.png."""
    hostile = (
        '<b>bold</b> <i>slanted</i> <u>under</u> <font color="#d93025">red</font><br>'
        '<a href="https://example.org/doc">safe link</a> <a href="javascript:window.pwned=1">script link</a> '
        '<img src="/nothing" onerror="window.pwned=2"><script>window.pwned=3</script>'
        '<span onclick="window.pwned=4">plain</span>'
    )
    card = {
        "header": {"title": "<img src=/nothing onerror=window.pwned=5>Title", "subtitle": "<b>not bold</b>"},
        "sections": [
            {
                "header": "<i>Section</i>",
                "widgets": [
                    {"textParagraph": {"text": hostile}},
                    {
                        "decoratedText": {
                            "topLabel": "Label",
                            "text": '<a href="data:text/html,hi">data link</a>',
                            "startIcon": {"knownIcon": "NO_SUCH_ICON"},
                        }
                    },
                ],
            }
        ],
    }
    fake_addon(page, {"open": pushed(card)})
    page.get_by_role("button", name="Open the add-on").click()
    shown = page.locator("#panel")
    expect(shown.get_by_role("heading", name="<img src=/nothing onerror=window.pwned=5>Title")).to_be_visible()

    expect(shown.get_by_text("<b>not bold</b>")).to_be_visible()
    assert shown.locator("img, script, [onclick], [onerror]").count() == 0
    links = shown.get_by_role("link")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.org/doc")
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    for text in ("script link", "data link", "plain"):
        expect(shown.get_by_text(text)).to_be_visible()
    expect(shown.locator("b", has_text="bold")).to_have_count(1)
    expect(shown.locator("i", has_text="Section")).to_have_count(1)
    expect(shown.locator("u", has_text="under")).to_have_count(1)
    expect(shown.locator("span", has_text="red")).to_have_css("color", "rgb(217, 48, 37)")
    shown.get_by_text("script link").click()
    assert page.evaluate("window.pwned") is None
    screenshot(page, "preview-card-text")


def test_consent_requests_errors_and_host_actions_are_shown_as_google_would(page: Page) -> None:
    """Screenshot: tests/artifacts/preview-consent-error-host-action.png."""
    panel = side_panel(page)
    actions = {
        "Ask consent": "https://addon.example/consent",
        "Break": "https://addon.example/break",
        "Add guests": "https://addon.example/guests",
        "Deeper": "https://addon.example/deeper",
        "Go home": "https://addon.example/home",
    }

    def card(name: str, *buttons: str) -> Answer:
        row = {"buttonList": {"buttons": [{"text": b, **click(actions[b])} for b in buttons]}}
        return {"name": name, "header": {"title": name.title()}, "sections": [{"widgets": [row]}]}

    scope = "https://www.googleapis.com/auth/calendar.events"
    guests = {"calendarAction": {"editAttendeesActionMarkup": {"addAttendeeEmails": ["bob@corp.example"]}}}
    fake_addon(
        page,
        {
            "open": pushed(card("home", "Ask consent", "Break", "Add guests", "Deeper")),
            actions["Ask consent"]: {"status": 200, "body": {"requesting_google_scopes": {"scopes": [scope]}}},
            actions["Break"]: {"status": 500, "body": {"error": "internal error", "requestId": "abc123"}},
            actions["Add guests"]: {"status": 200, "body": {"renderActions": {"hostAppAction": guests}}},
            actions["Deeper"]: rendered(navigations=[{"pushCard": card("inner", "Deeper", "Go home")}]),
            actions["Go home"]: rendered(navigations=[{"popToRoot": True}], notification={"text": "Back home"}),
        },
    )
    page.get_by_role("button", name="Open the add-on").click()

    panel.get_by_role("button", name="Ask consent").click()
    expect(panel.get_by_role("heading", name="Google would ask for consent")).to_be_visible()
    expect(panel.get_by_text(scope)).to_be_visible()
    panel.get_by_role("button", name="Back").click()

    panel.get_by_role("button", name="Break").click()
    expect(panel.get_by_role("alert")).to_contain_text("HTTP 500")
    expect(panel.get_by_role("alert")).to_contain_text("abc123")
    expect(panel.get_by_role("heading", name="Home")).to_be_visible()

    panel.get_by_role("button", name="Add guests").click()
    expect(panel.get_by_role("note")).to_contain_text("Calendar would add guests to the open event: bob@corp.example")

    panel.get_by_role("button", name="Deeper").click()
    panel.get_by_role("button", name="Deeper").click()
    expect(panel.get_by_role("heading", name="Inner")).to_be_visible()
    panel.get_by_role("button", name="Go home").click()
    expect(toast(page)).to_have_text("Back home")
    expect(panel.get_by_role("heading", name="Home")).to_be_visible()
    expect(panel.get_by_role("button", name="Back")).to_be_hidden()
    expect(panel.get_by_role("alert")).to_have_count(0)
    screenshot(page, "preview-consent-error-host-action")


def test_a_sign_in_window_reloads_the_add_on_when_it_closes(page: Page, preview: str) -> None:
    """Screenshot: tests/artifacts/preview-reloaded-after-sign-in.png."""
    panel = side_panel(page)
    opened: list[int] = []

    def trigger(_: dict[str, Any]) -> Answer:
        opened.append(1)
        title = "Connect Acme" if len(opened) == 1 else "Connected"
        link = {"openLink": {"url": preview + "/healthz", "openAs": "OVERLAY", "onClose": "RELOAD"}}
        button = {"buttonList": {"buttons": [{"text": "Sign in to Acme", "onClick": link}]}}
        return pushed({"header": {"title": title}, "sections": [{"widgets": [button]}]})

    fake_addon(page, {"open": trigger})
    page.get_by_role("button", name="Open the add-on").click()
    expect(panel.get_by_role("heading", name="Connect Acme")).to_be_visible()

    with page.expect_popup() as popup:
        panel.get_by_role("button", name="Sign in to Acme").click()
    popup.value.close()

    expect(panel.get_by_role("heading", name="Connected")).to_be_visible()
    assert len(opened) == 2
    screenshot(page, "preview-reloaded-after-sign-in")
