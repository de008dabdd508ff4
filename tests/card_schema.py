"""Strict checks of what Google receives: the response envelope, and every card in it against card.v1."""

from __future__ import annotations

import json
from typing import Any

from google.apps import card_v1

TRIGGER = "trigger"
ACTION = "action"


def validate_card(card: dict[str, Any]) -> dict[str, Any]:
    """Parse with the official schema; an unknown or misspelt field fails."""
    card_v1.Card.from_json(json.dumps(card), ignore_unknown_fields=False)
    widgets = sum(len(s.get("widgets", [])) for s in card.get("sections", []))
    assert widgets <= 100, "Google drops widgets past 100 per card"
    assert card.get("header", {}).get("title"), "every card has a title"
    return card


def _navigations(action: dict[str, Any]) -> list[dict[str, Any]]:
    assert set(action) <= {"navigations", "notification", "link"}, action.keys()
    cards = []
    for navigation in action.get("navigations", []):
        assert len(navigation) == 1, navigation
        ((kind, value),) = navigation.items()
        assert kind in {"pushCard", "updateCard", "pop", "popToRoot", "popToCard"}, kind
        if kind in {"pushCard", "updateCard"}:
            cards.append(validate_card(value))
    if "notification" in action:
        assert set(action["notification"]) == {"text"} and action["notification"]["text"]
    return cards


def trigger_cards(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The cards of a homepage or contextual trigger answer: {"action": {"navigations": [pushCard]}}."""
    assert set(body) == {"action"}, f"trigger answers wrap cards in 'action', got {list(body)}"
    cards = _navigations(body["action"])
    assert cards, "a trigger answer shows a card"
    return cards


def action_cards(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The cards of an action or eventUpdate answer: {"renderActions": {"action": {...}}}."""
    assert set(body) == {"renderActions"}, f"action answers wrap cards in 'renderActions', got {list(body)}"
    render = body["renderActions"]
    assert set(render) <= {"action", "hostAppAction"}, render.keys()
    return _navigations(render.get("action", {}))


def requested_scopes(body: dict[str, Any]) -> set[str]:
    assert set(body) == {"requesting_google_scopes"}, body
    scopes = body["requesting_google_scopes"]["scopes"]
    assert scopes and all(s.startswith("https://www.googleapis.com/auth/") for s in scopes)
    return set(scopes)


def card_text(card: dict[str, Any]) -> str:
    """Everything a user can read on the card, joined, for assertions on what is shown."""
    return json.dumps(card, ensure_ascii=False)
