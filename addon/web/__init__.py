"""HTTP surfaces of the add-on: one blueprint per surface."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from addon.web import actions, calendar, connect, gmail, health, hooks, settings, tasks

    for module in (gmail, calendar, actions, settings, connect, health, hooks, tasks):
        app.register_blueprint(module.bp)
    if app.extensions["addon"].settings.development:
        # Never in production: the preview signs requests with a key only development mode trusts.
        from addon.devhost.identity import DevIdentity
        from addon.devhost.samples import SampleWorkspace
        from addon.web import devhost, sample_google

        app.extensions["devhost"] = devhost.DevHost(DevIdentity(), SampleWorkspace())
        app.register_blueprint(sample_google.bp)
        app.register_blueprint(devhost.bp)
