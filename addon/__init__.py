"""A Google Workspace add-on backend that schedules video meetings from Gmail and Calendar."""

from __future__ import annotations

import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from addon import logs
from addon.logs import configure_logging
from addon.services import Services, build_services
from addon.serving import MAX_BODY_BYTES
from addon.settings import Settings
from addon.store.availability import RETRY_AFTER_SECONDS, StoreUnavailable
from addon.sync import CalendarSyncer


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app from Settings (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    configure_logging()
    bag = services or build_services(settings)
    app.extensions["addon"] = bag
    # The one use case that outlives a request: meetings kept in step with their events.
    app.extensions["sync"] = CalendarSyncer(bag)
    _register_request_ids(app)
    _register_error_handlers(app)

    from addon.web import register_blueprints

    register_blueprints(app)
    return app


def _register_request_ids(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        # Cloud's load balancer sends a trace id; reuse it so logs and cards line up with the trace.
        trace = request.headers.get("X-Cloud-Trace-Context", "").split("/")[0]
        g.request_id = trace[:32] if trace.isalnum() else uuid.uuid4().hex[:16]
        logs.start_request(g.request_id)

    @app.after_request
    def expose_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def forget_request(_error: BaseException | None) -> None:
        logs.end_request()


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = jsonify({"error": (error.name or "error").lower()})
        response.status_code = error.code or 400
        return response

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable) -> Response:
        # Background work (push notifications, tasks): a 503 is retried by Google and by Cloud Tasks.
        app.logger.error("the store did not answer: %s", error)
        response = jsonify({"error": "store unavailable", "requestId": g.get("request_id")})
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error")
        response = jsonify({"error": "internal error", "requestId": g.get("request_id")})
        response.status_code = 500
        return response
