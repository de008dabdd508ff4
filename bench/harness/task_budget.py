"""The add-on with its periodic tasks' time budget set from outside, so a bench sees a pass stop at its deadline.

`addon.web.tasks.BUDGET_SECONDS` (eight minutes, under App Engine's ten for a cron request) is read when a task
starts; this sets it from BENCH_TASK_BUDGET_SECONDS before building the app. The product knows nothing of it.
"""

from __future__ import annotations

import os

from flask import Flask

import addon
from addon.web import tasks

BUDGET_ENV = "BENCH_TASK_BUDGET_SECONDS"
SPEC = "bench.harness.task_budget:create_app()"


def create_app() -> Flask:
    """Gunicorn entry point: `addon.create_app()` with the budget from the environment."""
    tasks.BUDGET_SECONDS = float(os.environ[BUDGET_ENV])
    return addon.create_app()
