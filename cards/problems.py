"""Cards that say what went wrong and what the user can do about it."""

from __future__ import annotations

from html import escape

from cards.widgets import Json, card, paragraph, section


def problem_card(title: str, advice: str, request_id: str | None = None) -> Json:
    """A plain explanation; the request id lets an admin find the matching log entry."""
    widgets = [paragraph(escape(advice))]
    if request_id:
        widgets.append(paragraph(f'<font color="#5f6368">Reference: {escape(request_id)}</font>'))
    return card(title, [section(widgets)], name="problem")


def message_unreadable(request_id: str | None = None) -> Json:
    return problem_card(
        "Can't read this email",
        "The message may have been deleted or moved, or you may no longer have access to it. "
        "Open it again from your inbox and try once more.",
        request_id,
    )


def event_gone(request_id: str | None = None) -> Json:
    return problem_card(
        "This event no longer exists",
        "It was deleted or cancelled, or you lost access to its calendar. Refresh Calendar and open the event again.",
        request_id,
    )


def session_expired(request_id: str | None = None) -> Json:
    return problem_card(
        "Your Google session expired",
        "Close the add-on and open it again. If this keeps happening, sign out of Google and back in.",
        request_id,
    )


def google_unavailable(request_id: str | None = None) -> Json:
    return problem_card(
        "Google is not answering right now",
        "Nothing was changed. Wait a moment and try again.",
        request_id,
    )


def permission_missing(request_id: str | None = None) -> Json:
    return problem_card(
        "The add-on lacks a permission",
        "Google refused access for this item. Ask your administrator to grant the add-on's data access "
        "in the Admin console, then open the add-on again.",
        request_id,
    )


def unexpected(request_id: str | None = None) -> Json:
    return problem_card(
        "Something went wrong",
        "The add-on hit an unexpected problem and nothing was changed. Try again; "
        "if it happens again, give your administrator the reference below.",
        request_id,
    )


def meeting_service_busy(service: str, retry_after_seconds: float, request_id: str | None = None) -> Json:
    minutes = max(1, round(retry_after_seconds / 60))
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return problem_card(
        f"{service} asked us to slow down",
        f"{service} is limiting how many requests it accepts right now. Nothing was changed; try again in {wait}.",
        request_id,
    )


def meeting_service_unavailable(service: str, request_id: str | None = None) -> Json:
    return problem_card(
        f"{service} is not answering",
        f"{service} did not answer in time or reported an error. Nothing was changed; try again in a few minutes.",
        request_id,
    )


def meeting_gone(service: str, request_id: str | None = None) -> Json:
    return problem_card(
        f"The {service} meeting no longer exists",
        f"It was deleted on {service}. Schedule a new meeting for this event.",
        request_id,
    )


def meeting_rejected(service: str, message: str, request_id: str | None = None) -> Json:
    return problem_card(
        f"{service} refused the meeting",
        f"{service} said: {message or 'no reason given'}. Change the meeting and try again.",
        request_id,
    )


def service_not_offered(service: str, request_id: str | None = None) -> Json:
    return problem_card(
        f"{service} is not available",
        f"This installation does not offer {service}. Choose another meeting service in Settings.",
        request_id,
    )
