"""HTTP surfaces of the add-on: one blueprint per surface."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from addon.web import accounts, actions, calendar, gmail, health, hooks, tasks

    for module in (gmail, calendar, actions, accounts, health, hooks, tasks):
        app.register_blueprint(module.bp)
