"""Cards that say what went wrong and what the user can do about it."""

from __future__ import annotations

from html import escape

from cards.i18n import Translator
from cards.widgets import Json, card, paragraph, section


def problem_card(tr: Translator, title: str, advice: str, request_id: str | None = None) -> Json:
    """A plain explanation; the request id lets an admin find the matching log entry."""
    widgets = [paragraph(escape(advice))]
    if request_id:
        reference = tr("Reference: {request_id}", request_id=request_id)
        widgets.append(paragraph(f'<font color="#5f6368">{escape(reference)}</font>'))
    return card(title, [section(widgets)], name="problem")


def message_unreadable(tr: Translator, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("Can't read this email"),
        tr(
            "The message may have been deleted or moved, or you may no longer have access to it. "
            "Open it again from your inbox and try once more."
        ),
        request_id,
    )


def event_gone(tr: Translator, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("This event no longer exists"),
        tr(
            "It was deleted or cancelled, or you lost access to its calendar. "
            "Refresh Calendar and open the event again."
        ),
        request_id,
    )


def event_not_shown(tr: Translator, request_id: str | None = None) -> Json:
    """The card's own read of the event failed after an action; the notification says what the action did."""
    return problem_card(
        tr,
        tr("The event could not be shown"),
        tr("Google Calendar did not answer when the add-on read the event again. Open the event again to see it."),
        request_id,
    )


def session_expired(tr: Translator, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("Your Google session expired"),
        tr("Close the add-on and open it again. If this keeps happening, sign out of Google and back in."),
        request_id,
    )


def google_unavailable(tr: Translator, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("Google is not answering right now"),
        tr("Nothing was changed. Wait a moment and try again."),
        request_id,
    )


def google_busy(tr: Translator, request_id: str | None = None, outcome: str | None = None) -> Json:
    """Google asked us to slow down (a rate limit); `outcome` says what became of the user's change, if any."""
    said = outcome or tr("Nothing was changed.")
    advice = tr("Google asked the add-on to slow down; try again in a moment.")
    return problem_card(tr, tr("Google is busy right now"), f"{said} {advice}", request_id)


def google_limit_reached(tr: Translator, request_id: str | None = None, outcome: str | None = None) -> Json:
    """A Google daily or usage limit is used up; it refills over hours."""
    said = outcome or tr("Nothing was changed.")
    advice = tr(
        "Google refuses the add-on's requests until the limit refills; try again in a few hours. "
        "If this keeps happening, give your administrator the reference below."
    )
    return problem_card(tr, tr("A Google usage limit was reached"), f"{said} {advice}", request_id)


def permission_missing(tr: Translator, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("The add-on lacks a permission"),
        tr(
            "Google refused access for this item. Ask your administrator to grant the add-on's data access "
            "in the Admin console, then open the add-on again."
        ),
        request_id,
    )


def unexpected(tr: Translator, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("Something went wrong"),
        tr(
            "The add-on hit an unexpected problem and nothing was changed. Try again; "
            "if it happens again, give your administrator the reference below."
        ),
        request_id,
    )


def meeting_service_busy(
    tr: Translator, service: str, retry_after_seconds: float, request_id: str | None = None
) -> Json:
    minutes = max(1, round(retry_after_seconds / 60))
    advice = tr.plural(
        "{service} is limiting how many requests it accepts right now. Nothing was changed; try again in a minute.",
        "{service} is limiting how many requests it accepts right now. Nothing was changed; "
        "try again in {count} minutes.",
        minutes,
        service=service,
    )
    return problem_card(tr, tr("{service} asked us to slow down", service=service), advice, request_id)


def meeting_service_unavailable(tr: Translator, service: str, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("{service} is not answering", service=service),
        tr(
            "{service} did not answer in time or reported an error. Nothing was changed; try again in a few minutes.",
            service=service,
        ),
        request_id,
    )


def meeting_gone(tr: Translator, service: str, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("The {service} meeting no longer exists", service=service),
        tr("It was deleted on {service}. Schedule a new meeting for this event.", service=service),
        request_id,
    )


def meeting_rejected(tr: Translator, service: str, message: str, request_id: str | None = None) -> Json:
    # The service's own words are shown as they came; only the frame around them is translated.
    reason = message or tr("no reason given")
    return problem_card(
        tr,
        tr("{service} refused the meeting", service=service),
        tr("{service} said: {message}. Change the meeting and try again.", service=service, message=reason),
        request_id,
    )


def service_not_offered(tr: Translator, service: str, request_id: str | None = None) -> Json:
    return problem_card(
        tr,
        tr("{service} is not available", service=service),
        tr(
            "This installation does not offer {service}. Choose another meeting service in Settings.",
            service=service,
        ),
        request_id,
    )


def store_unavailable(tr: Translator, request_id: str | None = None) -> Json:
    """The add-on's own store (Datastore) did not answer in time, or stopped answering a moment ago."""
    return problem_card(
        tr,
        tr("The add-on's storage is not answering"),
        tr("Try again in a minute. If it keeps happening, give your administrator the reference below."),
        request_id,
    )
