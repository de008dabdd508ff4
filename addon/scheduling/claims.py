"""One meeting per event, however many requests ask: the claim protocol on an event's MeetingLink.

A request claims the link before it creates anything; a second request (a double click, another tab)
waits for the first; a claim whose request died is taken over after CLAIM_SECONDS, and a meeting that
request had already made is carried on rather than made again.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

from addon.google.calendar import CalendarEvent
from addon.meeting_links import fingerprint, guests
from addon.meetings.model import Meeting
from addon.scheduling.errors import SchedulingError, StillWorking
from addon.store import MeetingLink, PendingCreate, Store
from cards.i18n import Text

log = logging.getLogger(__name__)

# A request that claimed an event and then died is taken over after this long.
CLAIM_SECONDS = 60
# How long a second request waits for the first to finish.
WAIT_SECONDS = 8.0
# A link kept only because a create's answer was lost: forgotten after this if nobody tries again.
UNCERTAIN_KEPT = timedelta(days=1)
# A meeting left without an event waits this long for the user's retry to take it up, then the sweep deletes it.
GHOST_GRACE = timedelta(minutes=10)


class LinkClaims:
    """The claim and the finished link (or a claim given up, keeping what it made), each one store transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def claim(self, key: str, *, user_id: str, email: str, provider: str) -> tuple[MeetingLink, str | None]:
        """Take the event for this request, unless another holds it or it is done: (link, our claim or None)."""
        mark = secrets.token_hex(8)
        now = datetime.now(UTC)

        def take(current: MeetingLink | None) -> MeetingLink | None:
            if current is None:
                return MeetingLink(
                    link_id=key,
                    user_id=user_id,
                    user_email=email,
                    provider=provider,
                    claim=mark,
                    claimed_at=now,
                    created_at=now,
                )
            if current.state == "ready":
                return None
            if current.claim and current.claimed_at and now - current.claimed_at < timedelta(seconds=CLAIM_SECONDS):
                return None
            if current.meeting_id and current.user_id != user_id:
                return None  # someone else's meeting, half written: theirs to finish
            # Abandoned by a request that died, or a meeting made but not yet written: carry it on.
            return dataclasses.replace(current, claim=mark, claimed_at=now)

        link = self.store.update(MeetingLink, key, take)
        if link is None:
            raise SchedulingError(Text("Adding the meeting failed in another request. Try again."))
        if link.claim == mark and link.state != "ready":
            return link, mark
        if link.state != "ready" and link.meeting_id and link.user_id != user_id:
            if link.user_email:
                raise SchedulingError(
                    Text("{owner} is adding a meeting to this event. Refresh in a moment.", owner=link.user_email)
                )
            raise SchedulingError(Text("Someone else is adding a meeting to this event. Refresh in a moment."))
        return link, None

    def wait_until_ready(self, key: str, link: MeetingLink) -> MeetingLink:
        """The link once the request holding it has finished (StillWorking if it takes too long)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while link.state != "ready":
            if time.monotonic() > deadline:
                raise StillWorking(Text("The meeting is being added by another request. Refresh in a moment."))
            time.sleep(0.2)
            current = self.store.get(MeetingLink, key)
            if current is None:
                raise SchedulingError(Text("Adding the meeting failed in another request. Try again."))
            link = current
        return link

    @staticmethod
    def may_have_made(link: MeetingLink) -> bool:
        """Whether an earlier attempt may have made this claim's meeting already (then look before creating).

        A link this request created is a first attempt; one taken over from a request that died, or one
        whose create's answer was lost, is not."""
        taken_over = link.created_at is not None and link.claimed_at != link.created_at
        return bool(link.meeting_id) or link.create_uncertain or taken_over

    def release(self, key: str, mark: str, *, create_uncertain: bool = False, meeting: Meeting | None = None) -> None:
        """Give up this request's claim: forget a link with no meeting, keep one that has a meeting (`meeting`:
        the one this request made, which the next attempt reuses), and keep one whose create may have landed
        unseen (`create_uncertain`), so the next attempt looks first."""
        now = datetime.now(UTC)

        def release(current: MeetingLink | None) -> MeetingLink | None:
            if current is None or current.claim != mark:
                return None
            if meeting is not None:
                return dataclasses.replace(
                    current,
                    claim=None,
                    claimed_at=None,
                    state="created",
                    create_uncertain=False,
                    provider=meeting.provider,
                    meeting_id=meeting.meeting_id,
                    join_url=meeting.join_url,
                    updated_at=now,
                )
            if create_uncertain:
                return dataclasses.replace(
                    current,
                    claim=None,
                    claimed_at=None,
                    create_uncertain=True,
                    expires_at=current.expires_at or now + UNCERTAIN_KEPT,
                )
            return dataclasses.replace(current, claim=None, claimed_at=None)

        link = self.store.update(MeetingLink, key, release)
        if link is None or link.claim is not None or link.meeting_id or link.state == "ready":
            return
        if not link.create_uncertain:
            self.store.delete(MeetingLink, key)

    def left_behind(
        self,
        key: str,
        *,
        user_id: str,
        email: str,
        provider: str,
        window: tuple[datetime, datetime] | None = None,
    ) -> None:
        """The service may hold a meeting for this link that no event shows (its create got no answer, or its
        event could not be written): unless a retry takes it up within GHOST_GRACE, the sweep deletes it.
        `window`: the meeting's time, where the service is asked for a meeting whose id is not known."""
        now = datetime.now(UTC)
        start, end = window or (now, now)
        due = now + GHOST_GRACE
        self.store.put(
            PendingCreate(
                link_id=key,
                user_id=user_id,
                user_email=email,
                provider=provider,
                start=start,
                end=end,
                due_at=due,
                expires_at=due + UNCERTAIN_KEPT,
            )
        )

    def ready(
        self,
        key: str,
        mark: str | None,
        *,
        user_id: str,
        meeting: Meeting,
        event: CalendarEvent,
        expires_at: datetime,
    ) -> MeetingLink:
        """Record the finished meeting; `mark` is the claim it must still hold (None for an update)."""
        now = datetime.now(UTC)

        def ready(current: MeetingLink | None) -> MeetingLink | None:
            if mark is not None and (current is None or current.claim != mark):
                return None  # removed or taken over meanwhile: theirs is the last word
            base = current or MeetingLink(link_id=key, user_id=user_id, provider=meeting.provider)
            return dataclasses.replace(
                base,
                state="ready",
                claim=None,
                claimed_at=None,
                create_uncertain=False,
                provider=meeting.provider,
                meeting_id=meeting.meeting_id,
                join_url=meeting.join_url,
                calendar_id=event.calendar_id,
                event_id=event.event_id,
                html_link=event.html_link,
                fingerprint=fingerprint(event),
                invitees=guests(event),
                no_fixed_time=meeting.no_fixed_time,
                created_at=base.created_at or now,
                updated_at=now,
                expires_at=expires_at,
            )

        link = self.store.update(MeetingLink, key, ready)
        if link is None or link.meeting_id != meeting.meeting_id:
            log.warning("meeting link %s changed while the meeting was being written", key)
            return MeetingLink(
                link_id=key,
                user_id=user_id,
                provider=meeting.provider,
                state="ready",
                meeting_id=meeting.meeting_id,
                join_url=meeting.join_url,
            )
        return link
