"""The envelopes Google expects around cards: trigger answers, action answers, consent requests."""

from __future__ import annotations

from collections.abc import Iterable

from cards.widgets import Json


def push_card(card: Json) -> Json:
    """The answer to a homepage or contextual trigger."""
    return {"action": {"navigations": [{"pushCard": card}]}}


def update_card(card: Json, notification: str | None = None) -> Json:
    """The answer to a card action or eventUpdate: replace the top card."""
    action: Json = {"navigations": [{"updateCard": card}]}
    if notification:
        action["notification"] = {"text": notification}
    return {"renderActions": {"action": action}}


def push_card_action(card: Json, notification: str | None = None) -> Json:
    """The answer to a card action that opens a new card on top of the current one."""
    action: Json = {"navigations": [{"pushCard": card}]}
    if notification:
        action["notification"] = {"text": notification}
    return {"renderActions": {"action": action}}


def request_scopes(scopes: Iterable[str]) -> Json:
    """Ask Google to show granular consent for exactly these scopes; it re-runs the trigger after."""
    return {"requesting_google_scopes": {"scopes": sorted(scopes)}}
