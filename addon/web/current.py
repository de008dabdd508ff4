"""The objects of the app handling the current request: its outside services and its calendar syncer."""

from __future__ import annotations

from flask import current_app

from addon.services import Services
from addon.sync import CalendarSyncer


def current_services() -> Services:
    return current_app.extensions["addon"]


def current_syncer() -> CalendarSyncer:
    return current_app.extensions["sync"]
