"""The admin commands run exactly as the README writes them: from a clone, in its virtualenv, needing only
the store's settings (here the real Datastore emulator stands in for the production project)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from addon.store import AuditRecord, DomainPolicy
from addon.store.datastore import DatastoreStore

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# What the README's commands run with; the suite itself may run under another interpreter.
VENV_PYTHON = ".venv/bin/python"


def readme_block(after: str) -> str:
    """The first fenced block after the paragraph starting with `after`, as a shell script."""
    section = README[README.index(after) :]
    match = re.search(r"```\n(.*?)```", section, re.DOTALL)
    assert match, f"no command block after {after!r}"
    return match.group(1)


def run_as_written(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The README's lines in bash from the repository root; only PROJECT_ID and the sign-in differ here."""
    lines = [line for line in script.splitlines() if not line.startswith("gcloud auth ")]
    text = "\n".join(lines).replace("PROJECT_ID", env["GOOGLE_CLOUD_PROJECT"])
    if not (ROOT / VENV_PYTHON).exists():
        text = text.replace(VENV_PYTHON, sys.executable)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", text], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def admin_env(datastore_emulator: str) -> dict[str, str]:
    """An admin's shell: none of the web server's settings, the emulator in place of the real Datastore."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADDON_", "ZOOM_", "WEBEX_", "JITSI_"))}
    env["ADDON_DATASTORE_NAMESPACE"] = "admin-" + uuid.uuid4().hex[:8]
    return env


@pytest.mark.datastore
def test_policy_commands_run_as_the_readme_writes_them(admin_env: dict[str, str]) -> None:
    result = run_as_written(readme_block("**Domain policy.**"), admin_env)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "store: the Datastore emulator" in result.stderr
    assert "allowed_providers: jitsi, zoom" in result.stdout and "locked: provider" in result.stdout
    assert result.stdout.rstrip().endswith("policy for corp.example removed")
    store = DatastoreStore(namespace=admin_env["ADDON_DATASTORE_NAMESPACE"])
    assert store.get(DomainPolicy, "corp.example") is None  # the block ends by clearing it


@pytest.mark.datastore
def test_audit_command_runs_as_the_readme_writes_it(admin_env: dict[str, str]) -> None:
    store = DatastoreStore(namespace=admin_env["ADDON_DATASTORE_NAMESPACE"])
    at = datetime(2026, 11, 22, 7, 20, 11, tzinfo=UTC)
    store.put(
        AuditRecord(
            audit_id=f"alice@corp.example/{at.isoformat()}/0001",
            user_email="alice@corp.example",
            user_id="108",
            action="create",
            provider="zoom",
            meeting_id="84512236712",
            event="alice@corp.example/evt42",
            outcome="ok",
            at=at,
            expires_at=at + timedelta(days=365),
        )
    )
    admin_env.update(ADDON_STORE="datastore")

    result = run_as_written(readme_block("**Audit.**"), admin_env)

    assert result.returncode == 0, result.stderr
    expected = readme_block("It prints one line per record").strip()
    assert result.stdout.strip() == expected


def test_admin_commands_ask_for_no_web_server_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADDON_")}
    env.update(ADDON_ENV="production", ADDON_STORE=f"sqlite:///{tmp_path / 'admin.db'}")

    result = subprocess.run(
        [sys.executable, "-m", "addon", "policy", "show", "--domain", "corp.example"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "no policy for corp.example" in result.stdout
    assert "ADDON_BASE_URL" not in result.stderr and "development mode" not in result.stderr


def test_an_unreachable_datastore_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADDON_", "GOOGLE_", "DATASTORE_"))}
    # No credentials anywhere: the way a new admin's laptop starts.
    env.update(ADDON_STORE="datastore", GOOGLE_CLOUD_PROJECT="corp-addon", HOME=str(tmp_path), NO_GCE_CHECK="True")
    env["GCE_METADATA_HOST"] = "127.0.0.1:9"  # nothing listens: not on Google Cloud
    env["CLOUDSDK_CONFIG"] = str(tmp_path / "gcloud")

    result = subprocess.run(
        [sys.executable, "-m", "addon", "audit", "--user", "alice@corp.example"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: the store did not answer" in result.stderr
    assert "gcloud auth application-default login" in result.stderr


@pytest.mark.parametrize(("site", "noted"), [("acme.webex.com", False), ("meetings.corp.example", True)])
def test_a_webex_site_google_would_not_open_is_pointed_out(tmp_path: Path, site: str, noted: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADDON_")}
    env.update(ADDON_STORE=f"sqlite:///{tmp_path / 'admin.db'}")

    result = subprocess.run(
        [sys.executable, "-m", "addon", "policy", "set", "--domain", "corp.example", "--webex-site", site],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert f"webex_site: {site}" in result.stdout
    assert (f"add https://{site}/ to ADDON_LINK_PREFIXES" in result.stderr) is noted
