"""Webex: what only Webex does (offsets, sites, integration tags, invitees one by one, the site's password rules,
scheduled meetings of a series); what it shares with Zoom is in test_meeting_services.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from addon.meetings.http import ServiceClient
from addon.meetings.model import GrantRevoked, MeetingGone, MeetingOptions, MeetingRejected, ServiceUnavailable
from addon.meetings.oauth import OAuthApp, TokenSet
from addon.meetings.webex import WebexProvider, integration_tag
from addon.meetings.webex_sites import DefaultSites
from addon.services import Services
from tests.fakes.credentials import TokenCredentials
from tests.fakes.webex import FakeWebex
from tests.google_caller import ALICE as ALICE_IN_GOOGLE
from tests.meeting_services import ALICE, KEY, WEBEX, WEEKLY, MeetingService, a_spec, at, calls_since, known

BOB = "bob@corp.example"


@pytest.fixture
def meeting_service() -> MeetingService:
    return WEBEX


# Creating ----------------------------------------------------------------------------------


def test_create_returns_what_invitees_need_to_join(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    stored = webex.meetings[meeting.meeting_id].data
    assert meeting.provider == "webex"
    assert meeting.join_url == stored["webLink"]
    assert meeting.join_url.startswith("https://corp.webex.com/")
    assert meeting.meeting_code == stored["meetingNumber"]
    assert meeting.passcode == stored["password"]
    assert meeting.sip_address == f"{stored['meetingNumber']}@corp.webex.com"
    assert [(d.number, d.toll_free) for d in meeting.dial_in] == [
        ("+1-415-655-0001", False),
        ("+1-855-244-8681", True),
    ]
    assert stored["title"] == "Design review"
    assert stored["integrationTags"] == [integration_tag(KEY)]
    assert len(integration_tag(KEY)) <= 64
    assert [i["email"] for i in webex.meetings[meeting.meeting_id].invitees] == [
        "bob@corp.example",
        "carol@partner.example",
    ]
    assert webex.emails_sent == []  # Google Calendar sends the invitation, not Webex


@pytest.mark.parametrize(
    ("zone", "month", "local", "offset"),
    [
        ("Europe/Berlin", 1, "10:00:00", "+01:00"),
        ("Europe/Berlin", 7, "10:00:00", "+02:00"),
        ("Asia/Kolkata", 3, "10:00:00", "+05:30"),
        ("America/New_York", 11, "10:00:00", "-05:00"),
    ],
)
def test_times_carry_the_offset_of_the_events_zone(
    webex: FakeWebex, provider: WebexProvider, zone: str, month: int, local: str, offset: str
) -> None:
    year = datetime.now(UTC).year + 1
    start_utc = datetime(year, month, 15, 10, tzinfo=ZoneInfo(zone)).astimezone(UTC)

    meeting = provider.create(a_spec(start_utc, minutes=45, time_zone=zone), KEY)

    (body,) = WEBEX.posted(webex)
    assert body["start"] == f"{year}-{month:02d}-15T{local}{offset}"
    assert body["end"] == f"{year}-{month:02d}-15T10:45:00{offset}"
    assert body["timezone"] == zone
    assert webex.meetings[meeting.meeting_id].starts_at == start_utc


def test_webex_refuses_an_offset_that_does_not_match_the_zone(webex: FakeWebex) -> None:
    token = webex.connect(ALICE)["access_token"]
    start = at(zone="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (at(zone="UTC") + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    answer = requests.post(
        webex.api_base + "/meetings",
        json={"title": "x", "start": start, "end": end, "timezone": "Asia/Calcutta"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert answer.status_code == 400
    assert answer.json()["message"] == f"timezone 'Asia/Calcutta' and timezone offset in '{start}' do not match"
    assert webex.meetings == {}


def test_events_webex_finds_too_short_or_too_long_still_get_a_meeting(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    short = provider.create(a_spec(minutes=5), KEY)
    all_day = provider.create(a_spec(at(hour=0), minutes=24 * 60), KEY + "-all-day")

    assert webex.meetings[short.meeting_id].ends_at - webex.meetings[short.meeting_id].starts_at == timedelta(
        minutes=10
    )
    long = webex.meetings[all_day.meeting_id]
    assert long.ends_at - long.starts_at == timedelta(hours=23, minutes=59)


def test_options_and_long_text_reach_webex(webex: FakeWebex, provider: WebexProvider) -> None:
    options = MeetingOptions(
        passcode="Tr0ub4dor",
        waiting_room=True,
        alternative_hosts=("dana@corp.example", "Bob@corp.example"),
        template_id="tmpl-1",
        recurrence="FREQ=WEEKLY;BYDAY=MO;COUNT=10",
    )

    meeting = provider.create(a_spec(title="T" * 300, agenda="A" * 2000, options=options), KEY)

    stored = webex.meetings[meeting.meeting_id]
    assert meeting.passcode == "Tr0ub4dor"
    assert stored.data["enabledJoinBeforeHost"] is False
    assert stored.data["recurrence"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=10"
    assert stored.data["templateId"] == "tmpl-1"
    assert stored.data["title"] == "T" * 128
    assert stored.data["agenda"] == "A" * 1300
    assert stored.invitees == [
        {"email": "dana@corp.example", "coHost": True},
        {"email": "Bob@corp.example", "coHost": True},
        {"email": "carol@partner.example"},
    ]


def test_the_users_default_site_is_used_when_none_is_configured(webex: FakeWebex, provider: WebexProvider) -> None:
    first = provider.create(a_spec(), KEY)
    provider.create(a_spec(), KEY + "-2")

    assert [body["siteUrl"] for body in WEBEX.posted(webex)] == ["corp.webex.com", "corp.webex.com"]
    assert urlsplit(first.join_url).hostname == "corp.webex.com"
    assert len(webex.requests_to("GET", "/v1/meetingPreferences/sites")) == 1


def sites_read(webex: FakeWebex) -> int:
    return len(webex.requests_to("GET", "/v1/meetingPreferences/sites"))


def connect(services: Services, webex: FakeWebex, user_id: str, email: str) -> None:
    """The user connects (or connects again) a Webex account, as the sign-in saves it."""
    tokens = webex.connect(email)
    expires = datetime.now(UTC) + timedelta(hours=1)
    services.meetings.grants.save(user_id, "webex", TokenSet(tokens["access_token"], tokens["refresh_token"], expires))


def test_each_users_site_is_read_once_across_requests(webex: FakeWebex, services: Services) -> None:
    connect(services, webex, ALICE_IN_GOOGLE.sub, ALICE)
    connect(services, webex, "bob-sub", BOB)

    for key in (KEY, KEY + "-2"):  # two requests, each with a provider of its own
        services.meetings.provider(ALICE_IN_GOOGLE.sub, "webex").create(a_spec(), key, maybe_made=False)
    services.meetings.provider("bob-sub", "webex").create(a_spec(), KEY + "-bob", maybe_made=False)

    assert sites_read(webex) == 2
    assert [body["siteUrl"] for body in WEBEX.posted(webex)] == ["corp.webex.com"] * 3


def test_a_revoked_grant_leaves_no_site_behind(webex: FakeWebex, services: Services) -> None:
    connect(services, webex, ALICE_IN_GOOGLE.sub, ALICE)
    services.meetings.provider(ALICE_IN_GOOGLE.sub, "webex").create(a_spec(), KEY, maybe_made=False)
    webex.revoke_user(ALICE)

    with pytest.raises(GrantRevoked):
        services.meetings.provider(ALICE_IN_GOOGLE.sub, "webex").create(a_spec(), KEY + "-2", maybe_made=False)
    # She connects another account, whose default site is another one.
    webex.state.sites = [{"siteUrl": "corp-events.webex.com", "default": True}]
    connect(services, webex, ALICE_IN_GOOGLE.sub, ALICE)
    meeting = services.meetings.provider(ALICE_IN_GOOGLE.sub, "webex").create(a_spec(), KEY + "-2", maybe_made=False)

    assert urlsplit(meeting.join_url).hostname == "corp-events.webex.com"
    assert sites_read(webex) == 2


def test_a_site_remembered_from_an_account_since_replaced_is_read_again(webex: FakeWebex, services: Services) -> None:
    connect(services, webex, ALICE_IN_GOOGLE.sub, ALICE)
    services.meetings.provider(ALICE_IN_GOOGLE.sub, "webex").create(a_spec(), KEY, maybe_made=False)
    # She connects another account, on a site of its own, while the first one's grant still works.
    webex.state.sites = [{"siteUrl": "acme.webex.com", "default": True}]
    connect(services, webex, ALICE_IN_GOOGLE.sub, ALICE)

    meeting = services.meetings.provider(ALICE_IN_GOOGLE.sub, "webex").create(a_spec(), KEY + "-2", maybe_made=False)

    assert urlsplit(meeting.join_url).hostname == "acme.webex.com"
    assert [body["siteUrl"] for body in WEBEX.posted(webex)] == ["corp.webex.com", "corp.webex.com", "acme.webex.com"]
    assert len(webex.meetings) == 2  # the refused create made nothing
    assert sites_read(webex) == 2


def test_a_site_is_remembered_for_an_hour_for_so_many_users(
    webex: FakeWebex, service_client: ServiceClient, grant: TokenCredentials, oauth_app: OAuthApp
) -> None:
    now = [0.0]
    sites = DefaultSites(ttl_seconds=3600, most_users=1, clock=lambda: now[0])
    bob = TokenCredentials(oauth_app, webex.connect(BOB))

    def create(credentials: TokenCredentials, user_id: str, key: str) -> str | None:
        provider = WebexProvider(service_client, credentials, sites=sites, user_id=user_id)
        return urlsplit(provider.create(a_spec(), key, maybe_made=False).join_url).hostname

    assert create(grant, "alice", KEY) == "corp.webex.com"
    webex.state.sites = [  # her admin moves her to another of her sites
        {"siteUrl": "corp.webex.com", "default": False},
        {"siteUrl": "corp-events.webex.com", "default": True},
    ]
    now[0] = 3599.0
    assert create(grant, "alice", KEY + "-2") == "corp.webex.com"  # an hour at most, since it still works
    now[0] = 3601.0
    assert create(grant, "alice", KEY + "-3") == "corp-events.webex.com"
    assert sites_read(webex) == 2
    create(bob, "bob", KEY + "-bob")  # room for one user only: Alice's site makes way for Bob's
    create(grant, "alice", KEY + "-4")
    assert sites_read(webex) == 4


def test_a_configured_site_is_used_without_asking(
    webex: FakeWebex, service_client: ServiceClient, grant: TokenCredentials
) -> None:
    provider = WebexProvider(service_client, grant, site_url="corp-events.webex.com")

    meeting = provider.create(a_spec(), KEY)

    assert urlsplit(meeting.join_url).hostname == "corp-events.webex.com"
    assert webex.requests_to("GET", "/v1/meetingPreferences/sites") == []


# Updating, reading, deleting ---------------------------------------------------------------


def test_update_moves_and_renames_the_meeting(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    later = at(days=31, hour=15)

    updated = provider.update(meeting.meeting_id, a_spec(later, minutes=60, title="Design review (moved)"))

    stored = webex.meetings[meeting.meeting_id]
    assert updated.meeting_id == meeting.meeting_id
    assert updated.join_url == meeting.join_url
    assert stored.data["title"] == "Design review (moved)"
    assert (stored.starts_at, stored.ends_at) == (later, later + timedelta(hours=1))
    assert stored.data["integrationTags"] == [integration_tag(KEY)]
    assert webex.emails_sent == []
    assert provider.create(a_spec(later, minutes=60), KEY) == updated


def test_a_one_off_update_with_what_the_record_knows_reads_nothing_first(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY, maybe_made=False)
    seen = len(webex.state.requests)
    later = at(days=31, hour=15)

    updated = provider.update(meeting.meeting_id, a_spec(later, title="Moved"), known=known(meeting, spec))

    assert calls_since(webex, seen) == [("PATCH", f"/v1/meetings/{meeting.meeting_id}")]
    assert updated == provider.get(meeting.meeting_id)  # Webex answers the PATCH with the whole meeting
    assert webex.meetings[meeting.meeting_id].starts_at == later
    assert invited(webex, meeting.meeting_id) == {"bob@corp.example": False, "carol@partner.example": False}


def test_an_update_with_what_the_record_knows_invites_only_the_new_guests(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY, maybe_made=False)
    seen = len(webex.state.requests)

    provider.update(
        meeting.meeting_id, a_spec(invitees=(*spec.invitees, "dave@corp.example")), known=known(meeting, spec)
    )

    assert calls_since(webex, seen) == [
        ("PATCH", f"/v1/meetings/{meeting.meeting_id}"),
        ("POST", "/v1/meetingInvitees"),
    ]
    assert list(invited(webex, meeting.meeting_id)) == [
        "bob@corp.example",
        "carol@partner.example",
        "dave@corp.example",
    ]
    assert webex.emails_sent == []


def test_an_update_with_what_the_record_knows_removes_a_removed_guest(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY, maybe_made=False)
    seen = len(webex.state.requests)

    provider.update(meeting.meeting_id, a_spec(invitees=("bob@corp.example",)), known=known(meeting, spec))

    calls = calls_since(webex, seen)
    assert [method for method, _ in calls] == ["PATCH", "GET", "DELETE"]  # the list is read for the guest's id
    assert calls[1] == ("GET", "/v1/meetingInvitees")
    assert invited(webex, meeting.meeting_id) == {"bob@corp.example": False}
    assert webex.emails_sent == []


def test_a_meeting_whose_start_has_passed_is_renamed_without_resending_it(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY, maybe_made=False)
    begun = webex.meetings[meeting.meeting_id]
    begun.starts_at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    begun.ends_at = begun.starts_at + timedelta(minutes=30)
    begun.data["start"], begun.data["end"] = begun.starts_at.isoformat(), begun.ends_at.isoformat()
    begun.data["timezone"] = "UTC"

    renamed = a_spec(begun.starts_at, title="Design review (renamed)", time_zone="UTC")
    provider.update(meeting.meeting_id, renamed, known=known(meeting, spec))

    patch = webex.requests_to("PATCH", f"/v1/meetings/{meeting.meeting_id}")[-1].get_json()
    assert "start" not in patch and "end" not in patch  # Webex refuses a start in the past
    assert begun.data["title"] == "Design review (renamed)"


def test_update_clears_an_agenda_the_event_no_longer_has(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    provider.update(meeting.meeting_id, a_spec(agenda=""))

    assert "agenda" not in webex.meetings[meeting.meeting_id].data


# Following the event: invitees -------------------------------------------------------------


def invited(webex: FakeWebex, meeting_id: str) -> dict[str, bool]:
    """Who is invited on Webex, and whether as co-host."""
    return {i["email"]: bool(i.get("coHost")) for i in webex.meetings[meeting_id].invitees}


def invitee_calls(webex: FakeWebex, method: str) -> list:
    return webex.requests_to(method, "/v1/meetingInvitees")


@pytest.mark.parametrize("with_known", [False, True], ids=["unknown", "known"])
def test_update_makes_the_invitees_exactly_the_events_guests(
    webex: FakeWebex, provider: WebexProvider, with_known: bool
) -> None:
    meeting = provider.create(a_spec(), KEY)
    options = MeetingOptions(alternative_hosts=("erin@corp.example",))
    guests = ("Carol@Partner.example", "dave@corp.example")
    record = known(meeting, a_spec()) if with_known else None

    provider.update(meeting.meeting_id, a_spec(invitees=guests, options=options), known=record)

    assert invited(webex, meeting.meeting_id) == {
        "carol@partner.example": False,
        "dave@corp.example": False,
        "erin@corp.example": True,
    }
    (removal,) = invitee_calls(webex, "DELETE")
    assert removal.args["sendEmail"] == "false"
    additions = [r.get_json() for r in invitee_calls(webex, "POST")]
    assert [(a["email"], a.get("coHost"), a["sendEmail"]) for a in additions] == [
        ("erin@corp.example", True, False),
        ("dave@corp.example", None, False),
    ]
    assert invitee_calls(webex, "PUT") == []  # carol is left as she is
    assert webex.emails_sent == []


@pytest.mark.parametrize("with_known", [False, True], ids=["unknown", "known"])
def test_an_invitee_made_alternative_host_becomes_co_host_and_back(
    webex: FakeWebex, provider: WebexProvider, with_known: bool
) -> None:
    meeting = provider.create(a_spec(), KEY)
    co_host = a_spec(options=MeetingOptions(alternative_hosts=("bob@corp.example",)))

    provider.update(meeting.meeting_id, co_host, known=known(meeting, a_spec()) if with_known else None)
    assert invited(webex, meeting.meeting_id) == {"bob@corp.example": True, "carol@partner.example": False}
    provider.update(meeting.meeting_id, a_spec(), known=known(meeting, co_host) if with_known else None)

    assert invited(webex, meeting.meeting_id) == {"bob@corp.example": False, "carol@partner.example": False}
    assert len(invitee_calls(webex, "PUT")) == 2
    assert invitee_calls(webex, "POST") == invitee_calls(webex, "DELETE") == []
    assert webex.emails_sent == []


def test_invitees_are_read_across_every_page(webex: FakeWebex, provider: WebexProvider) -> None:
    guests = tuple(f"guest{n:03}@corp.example" for n in range(150))
    meeting = provider.create(a_spec(invitees=guests), KEY)

    provider.update(meeting.meeting_id, a_spec(invitees=guests[1:]))

    assert set(invited(webex, meeting.meeting_id)) == set(guests[1:])
    assert len(invitee_calls(webex, "GET")) == 2  # 100 a page
    assert invitee_calls(webex, "POST") == []
    assert len(invitee_calls(webex, "DELETE")) == 1


def test_a_next_page_on_another_host_is_not_followed(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    elsewhere = '<https://webex.attacker.example/v1/meetingInvitees?cursor=MQ==>; rel="next"'
    webex.fail("/v1/meetingInvitees", 200, body={"items": []}, headers={"Link": elsewhere}, method="GET")

    with pytest.raises(MeetingRejected, match="another host"):
        provider.update(meeting.meeting_id, a_spec(invitees=("dave@corp.example",)))

    assert invitee_calls(webex, "POST") == invitee_calls(webex, "DELETE") == []
    assert set(invited(webex, meeting.meeting_id)) == {"bob@corp.example", "carol@partner.example"}


def test_a_failed_invitation_is_reported_and_the_next_update_finishes_it(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)
    everyone = a_spec(invitees=("bob@corp.example", "carol@partner.example", "dave@corp.example", "erin@corp.example"))
    webex.fail("/v1/meetingInvitees", 503, method="POST")

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, everyone)

    assert len(invitee_calls(webex, "POST")) == 1  # an invitation is not sent twice on a 5xx
    assert set(invited(webex, meeting.meeting_id)) == {"bob@corp.example", "carol@partner.example"}
    provider.update(meeting.meeting_id, everyone)
    assert set(invited(webex, meeting.meeting_id)) == {
        "bob@corp.example",
        "carol@partner.example",
        "dave@corp.example",
        "erin@corp.example",
    }


def test_an_invitation_whose_answer_is_lost_is_not_repeated(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    more = a_spec(invitees=("bob@corp.example", "carol@partner.example", "dave@corp.example"))
    webex.fail("/v1/meetingInvitees", 503, method="POST", applied=True)

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, more)
    provider.update(meeting.meeting_id, more)

    assert len(invitee_calls(webex, "POST")) == 1
    assert len(webex.meetings[meeting.meeting_id].invitees) == 3


def test_an_invitation_whose_answer_was_lost_is_not_sent_twice_from_the_record(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY)
    more = a_spec(invitees=(*spec.invitees, "dave@corp.example"))
    webex.fail("/v1/meetingInvitees", 503, method="POST", applied=True)

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, more, known=known(meeting, spec))
    provider.update(meeting.meeting_id, more, known=known(meeting, spec))  # the record was not updated

    assert list(invited(webex, meeting.meeting_id)) == [
        "bob@corp.example",
        "carol@partner.example",
        "dave@corp.example",
    ]
    assert len(invitee_calls(webex, "GET")) == 1  # Webex said "already invited": the list says who is there
    assert webex.emails_sent == []


def test_a_removal_webex_keeps_failing_stops_the_update_before_anyone_is_added(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.fail("/v1/meetingInvitees/", 503, times=3, method="DELETE")

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, a_spec(invitees=("carol@partner.example", "dave@corp.example")))

    assert len(invitee_calls(webex, "DELETE")) == 3  # deleting again is safe, so it was retried
    assert invitee_calls(webex, "POST") == []
    assert "bob@corp.example" in invited(webex, meeting.meeting_id)


# Rotating the passcode ---------------------------------------------------------------------


def test_rotating_the_passcode_changes_only_the_passcode(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(options=MeetingOptions(recurrence="FREQ=WEEKLY;COUNT=4")), KEY)

    rotated = provider.rotate_passcode(meeting.meeting_id)

    stored = webex.meetings[meeting.meeting_id]
    assert rotated.passcode == stored.data["password"] != meeting.passcode
    assert (rotated.meeting_id, rotated.join_url, rotated.meeting_code) == (
        meeting.meeting_id,
        meeting.join_url,
        meeting.meeting_code,
    )
    (patch,) = webex.requests_to("PATCH", "/v1/meetings/")
    assert set(patch.get_json()) == {"password", "sendEmail"}  # resending start fails once a series has begun
    assert len(webex.occurrences(meeting.meeting_id)) == 4
    assert provider.get(meeting.meeting_id) == rotated
    assert webex.emails_sent == []
    assert provider.can_rotate_passcode is True


# Single occurrences of a series ------------------------------------------------------------


def starts(webex: FakeWebex, meeting_id: str) -> list[datetime]:
    return [datetime.fromisoformat(o["start"]) for o in webex.occurrences(meeting_id)]


def test_one_occurrence_is_moved_and_retitled_alone(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.update_occurrence(
        meeting.meeting_id, second, a_spec(second + timedelta(hours=3), minutes=60, title="Design review (moved)")
    )

    occurrences = webex.occurrences(meeting.meeting_id)
    assert starts(webex, meeting.meeting_id) == [
        first,
        second + timedelta(hours=3),
        first + timedelta(days=14),
        first + timedelta(days=21),
    ]
    assert [o["title"] for o in occurrences] == ["Design review", "Design review (moved)", *["Design review"] * 2]
    assert [o["isModified"] for o in occurrences] == [False, True, False, False]
    assert webex.meetings[meeting.meeting_id].data["title"] == "Design review"  # the series is as it was
    (patch,) = webex.requests_to("PATCH", "/v1/meetings/")
    assert patch.path == f"/v1/meetings/{meeting.meeting_id}_{second.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    assert webex.emails_sent == []
    assert provider.series_occurrences is True


def test_an_occurrence_moved_days_away_is_found_again(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.update_occurrence(meeting.meeting_id, second, a_spec(second + timedelta(days=3)))
    provider.update_occurrence(meeting.meeting_id, second, a_spec(second + timedelta(days=4), title="Again"))

    assert starts(webex, meeting.meeting_id)[1] == second + timedelta(days=4)
    assert webex.occurrences(meeting.meeting_id)[1]["title"] == "Again"
    assert len(webex.occurrences(meeting.meeting_id)) == 4
    # Out of the listed window around its original start, it was asked for by name.
    assert len(webex.requests_to("GET", f"/v1/meetings/{meeting.meeting_id}_")) == 1


def test_cancelling_an_occurrence_removes_only_that_one(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.cancel_occurrence(meeting.meeting_id, second)
    provider.cancel_occurrence(meeting.meeting_id, second)  # already gone is fine

    assert starts(webex, meeting.meeting_id) == [first, first + timedelta(days=14), first + timedelta(days=21)]
    (cancel,) = webex.requests_to("DELETE", "/v1/meetings/")
    assert cancel.args["sendEmail"] == "false"
    assert webex.emails_sent == []
    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, second, a_spec(second))


def test_a_daily_series_ends_on_its_until_day(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    last = first + timedelta(days=2)
    options = MeetingOptions(recurrence=f"FREQ=DAILY;UNTIL={last:%Y%m%d}")
    meeting = provider.create(a_spec(first, options=options), KEY)

    provider.cancel_occurrence(meeting.meeting_id, last)

    assert starts(webex, meeting.meeting_id) == [first, first + timedelta(days=1)]
    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, last + timedelta(days=1), a_spec(last + timedelta(days=1)))


@pytest.mark.parametrize("with_known", [False, True], ids=["unknown", "known"])
def test_renaming_a_series_under_way_leaves_its_times_and_exceptions_alone(
    webex: FakeWebex, provider: WebexProvider, with_known: bool
) -> None:
    spec = a_spec(options=WEEKLY)
    series = provider.create(spec, KEY)
    provider.update_occurrence(series.meeting_id, spec.start + timedelta(weeks=1), a_spec(at(days=38), options=WEEKLY))
    # A week on, the series has begun: Webex now refuses its start, which lies in the past.
    begun = webex.meetings[series.meeting_id]
    begun.starts_at -= timedelta(days=40)
    begun.ends_at -= timedelta(days=40)
    begun.data["start"] = begun.starts_at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    begun.data["end"] = begun.ends_at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    renamed = a_spec(begun.starts_at, title="Design review (weekly)", options=WEEKLY)

    provider.update(series.meeting_id, renamed, known=known(series, spec) if with_known else None)

    patch = webex.requests_to("PATCH", f"/v1/meetings/{series.meeting_id}")[-1].get_json()
    assert "start" not in patch and "end" not in patch and "recurrence" not in patch
    assert webex.meetings[series.meeting_id].data["title"] == "Design review (weekly)"
    assert begun.exceptions  # the moved occurrence is still moved
