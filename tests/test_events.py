"""Event objects: the documented variants parse; anything malformed is a 400 with a short reason."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from werkzeug.test import TestResponse

from addon.events import BadEvent, parse_event
from tests.card_schema import trigger_cards
from tests.fakes.google import FakeGoogle
from tests.google_caller import GoogleCaller


def minimal(host_app: str = "GMAIL") -> dict[str, Any]:
    return {"commonEventObject": {"hostApp": host_app}}


@pytest.mark.parametrize("ms", [1767261600000, "1767261600000"])
def test_ms_since_epoch_as_integer_or_string(ms: object) -> None:
    body = minimal()
    body["commonEventObject"]["formInputs"] = {
        "start": {"dateTimeInput": {"msSinceEpoch": ms, "hasDate": True, "hasTime": True}},
        "day": {"dateInput": {"msSinceEpoch": ms}},
    }

    inputs = parse_event(body).common.form_inputs

    assert inputs["start"].ms_since_epoch == 1767261600000
    assert inputs["day"].ms_since_epoch == 1767261600000


def test_form_inputs_of_every_documented_shape() -> None:
    body = minimal()
    body["commonEventObject"]["formInputs"] = {
        "title": {"stringInputs": {"value": ["Quarterly sync"]}},
        "people": {"stringInputs": {"value": ["a@x.example", "b@x.example"]}},
        "at": {"timeInput": {"hours": 14, "minutes": 30}},
    }
    body["commonEventObject"]["parameters"] = {"eventId": "abc"}

    common = parse_event(body).common

    assert common.form_inputs["title"].first == "Quarterly sync"
    assert common.form_inputs["people"].strings == ("a@x.example", "b@x.example")
    assert (common.form_inputs["at"].hours, common.form_inputs["at"].minutes) == (14, 30)
    assert common.parameters == {"eventId": "abc"}


def test_optional_parts_may_be_missing() -> None:
    event = parse_event(minimal("CALENDAR") | {"calendar": {"calendarId": "primary"}})

    assert event.common.time_zone is None and event.common.user_locale is None
    assert event.authorization.user_oauth_token is None and not event.authorization.authorized_scopes
    assert event.calendar is not None and event.calendar.event_id is None
    assert event.calendar.attendees == () and not event.calendar.capabilities.can_see_attendees
    assert event.gmail is None


def test_legacy_gmail_fields_are_ignored() -> None:
    body = minimal() | {"messageMetadata": {"messageId": "x"}, "clientPlatform": "web", "userTimezone": {"id": "X"}}

    assert parse_event(body).gmail is None


MALFORMED: list[tuple[str, Any]] = [
    ("a list", []),
    ("a string", "hello"),
    ("no commonEventObject", {"gmail": {}}),
    ("commonEventObject not an object", {"commonEventObject": "GMAIL"}),
    ("no hostApp", {"commonEventObject": {}}),
    ("hostApp not a string", {"commonEventObject": {"hostApp": 7}}),
    ("timeZone not an object", {"commonEventObject": {"hostApp": "GMAIL", "timeZone": "UTC"}}),
    ("formInputs not an object", {"commonEventObject": {"hostApp": "GMAIL", "formInputs": []}}),
    ("parameters not strings", {"commonEventObject": {"hostApp": "GMAIL", "parameters": {"a": 1}}}),
    (
        "msSinceEpoch not a number",
        {"commonEventObject": {"hostApp": "GMAIL", "formInputs": {"s": {"dateTimeInput": {"msSinceEpoch": "soon"}}}}},
    ),
    (
        "msSinceEpoch with a non-ASCII digit",
        {"commonEventObject": {"hostApp": "GMAIL", "formInputs": {"s": {"dateTimeInput": {"msSinceEpoch": "²"}}}}},
    ),
    (
        "msSinceEpoch with thousands of digits",
        {
            "commonEventObject": {
                "hostApp": "GMAIL",
                "formInputs": {"s": {"dateTimeInput": {"msSinceEpoch": "9" * 5000}}},
            }
        },
    ),
    (
        "stringInputs not strings",
        {"commonEventObject": {"hostApp": "GMAIL", "formInputs": {"s": {"stringInputs": {"value": [1]}}}}},
    ),
    (
        "time of day out of range",
        {"commonEventObject": {"hostApp": "GMAIL", "formInputs": {"t": {"timeInput": {"hours": 25, "minutes": 0}}}}},
    ),
    (
        "authorizedScopes not a list",
        {"commonEventObject": {"hostApp": "GMAIL"}, "authorizationEventObject": {"authorizedScopes": "x"}},
    ),
    ("gmail not an object", {"commonEventObject": {"hostApp": "GMAIL"}, "gmail": "msg"}),
    ("messageId not a string", {"commonEventObject": {"hostApp": "GMAIL"}, "gmail": {"messageId": 5}}),
    ("calendar without calendarId", {"commonEventObject": {"hostApp": "CALENDAR"}, "calendar": {"id": "x"}}),
    (
        "attendees not a list",
        {"commonEventObject": {"hostApp": "CALENDAR"}, "calendar": {"calendarId": "c", "attendees": {}}},
    ),
    (
        "attendee without email",
        {"commonEventObject": {"hostApp": "CALENDAR"}, "calendar": {"calendarId": "c", "attendees": [{}]}},
    ),
    (
        "OAuth token that no HTTP header can carry",
        {"commonEventObject": {"hostApp": "GMAIL"}, "authorizationEventObject": {"userOAuthToken": "ya29.😀"}},
    ),
    ("message token with a space", {"commonEventObject": {"hostApp": "GMAIL"}, "gmail": {"accessToken": "a b"}}),
    ("a form input named at length", {"commonEventObject": {"hostApp": "GMAIL", "formInputs": {"k" * 10_000: 5}}}),
]


@pytest.mark.parametrize(("case", "body"), MALFORMED, ids=[c for c, _ in MALFORMED])
def test_malformed_event_objects_are_refused_by_the_parser(case: str, body: Any) -> None:
    with pytest.raises(BadEvent):
        parse_event(body)


@pytest.mark.parametrize(("case", "body"), MALFORMED, ids=[c for c, _ in MALFORMED])
def test_malformed_bodies_get_a_400_with_a_short_reason(caller: GoogleCaller, case: str, body: Any) -> None:
    if isinstance(body, dict):
        # Keep a valid identity so the body itself is what is judged.
        body = copy.deepcopy(body)
        body["authorizationEventObject"] = {
            **caller.event("GMAIL")["authorizationEventObject"],
            **body.get("authorizationEventObject", {}),
        }

    response = caller.post("/gmail/home", body)

    assert response.status_code == 400
    reason = response.get_json()["error"]
    assert 0 < len(reason) < 120 and "Traceback" not in reason


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"a=b", "application/x-www-form-urlencoded"),
    ],
)
def test_non_json_bodies_get_a_400(caller: GoogleCaller, data: bytes, content_type: str) -> None:
    token = caller.system_token("/gmail/home")

    response = caller.client.post(
        "/gmail/home", data=data, headers={"Authorization": f"Bearer {token}", "Content-Type": content_type}
    )

    assert response.status_code == 400
    assert "error" in response.get_json()


def post_raw(caller: GoogleCaller, data: bytes, path: str = "/gmail/home") -> TestResponse:
    token = caller.system_token(path)
    return caller.client.post(
        path, data=data, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )


def test_oversized_bodies_are_refused(caller: GoogleCaller) -> None:
    response = post_raw(caller, b"{" + b" " * (2 * 1024 * 1024) + b"}")

    assert response.status_code == 413
    assert response.get_json() == {"error": "the body is larger than 1048576 bytes"}


def valid_with(caller: GoogleCaller, field: bytes) -> bytes:
    """A real event object, with one more field whose JSON text is `field`."""
    return json.dumps(caller.event("GMAIL")).encode()[:-1] + b', "extra": ' + field + b"}"


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        (b"[" * 5000 + b"]" * 5000, "the body nests deeper than 64 levels"),
        (b"[" * 100_000, "the body nests deeper than 64 levels"),
        (b'{"a":' * 65 + b"1" + b"}" * 65, "the body nests deeper than 64 levels"),
        (b'"a \\" [[[[ still a string", ' + b"[" * 70, "the body nests deeper than 64 levels"),
        (b'"\\ud800"', "the body has text that is not Unicode (a lone surrogate escape)"),
        (b'{"\\udfff": 1}', "the body has text that is not Unicode (a lone surrogate escape)"),
        (b'"\\ude00\\ud83d"', "the body has text that is not Unicode (a lone surrogate escape)"),
        (b'"\xed\xa0\x80"', "the body is not UTF-8"),
        (b'"caf\xc3"', "the body is not UTF-8"),
        (b'"\xc0\xaf"', "the body is not UTF-8"),
        (b"NaN", "the body is not JSON: NaN, Infinity or a number too long to read"),
        (b"1" * 5000, "the body is not JSON: NaN, Infinity or a number too long to read"),
        (b'"a\x00b"', "the body is not JSON: Invalid control character"),
    ],
)
def test_bodies_the_parser_cannot_take_are_a_400_logged_as_a_warning(
    caller: GoogleCaller, caplog: pytest.LogCaptureFixture, field: bytes, reason: str
) -> None:
    with caplog.at_level(logging.INFO):
        response = post_raw(caller, valid_with(caller, field))

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(reason)
    assert [r.levelname for r in caplog.records if "refused a request body" in r.getMessage()] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "field",
    [
        b"[" * 60 + b"]" * 60,
        b'"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["',
        b'"\\ud83d\\ude00 \\\\ud800"',
    ],
)
def test_what_google_could_send_is_not_refused_on_the_way(caller: GoogleCaller, field: bytes) -> None:
    assert post_raw(caller, valid_with(caller, field)).status_code == 200


def test_unverified_requests_are_refused_before_the_body_is_judged(caller: GoogleCaller) -> None:
    response = caller.client.post("/gmail/home", data=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "event_part"),
    [("/gmail/message", {}), ("/gmail/message", {"gmail": {"messageId": "m"}}), ("/calendar/event-open", {})],
)
def test_trigger_without_its_host_object_is_a_400(caller: GoogleCaller, path: str, event_part: dict) -> None:
    event = caller.event("GMAIL" if "gmail" in path else "CALENDAR", **event_part)

    response = caller.post(path, event)

    assert response.status_code == 400


def test_wrong_method_and_unknown_paths_are_clean_4xx(caller: GoogleCaller) -> None:
    assert caller.client.get("/gmail/message").status_code == 405
    assert caller.client.post("/nope").status_code == 404
    assert caller.client.post("/nope").get_json() == {"error": "not found"}


def test_a_crash_in_a_handler_is_a_card_with_a_reference_not_a_500(
    caller: GoogleCaller, google: FakeGoogle, app: object
) -> None:
    class BrokenStore:
        """A store whose disk failed: every read raises."""

        def get(self, *args: object) -> None:
            raise RuntimeError("disk on fire")

        get_many = get

        def close(self) -> None:
            pass

    app.extensions["addon"].store = BrokenStore()

    response = caller.post("/gmail/home", caller.event("GMAIL"))

    assert response.status_code == 200
    (card,) = trigger_cards(response.get_json())
    assert "Something went wrong" in str(card)
    assert response.headers["X-Request-Id"] in str(card)
    assert "disk on fire" not in response.get_data(as_text=True)
