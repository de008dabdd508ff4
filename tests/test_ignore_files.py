"""Nothing private is committed or uploaded: .gitignore and .gcloudignore leave out keys, the SQLite store
with its companions and local deployment files, and still upload what App Engine needs to run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRIVATE = [
    "addon.db",
    "addon.db-wal",
    "addon.db-shm",
    "addon.db-journal",
    "data/store.sqlite3",
    "sync-key.json",
    "addon-sync-key.json",
    "keys/service-account.pem",
    "deployment.mine.json",
    "deployment.staging.json",
    ".env",
    ".env.production",
]
SHIPPED = [
    "app.yaml",
    "cron.yaml",
    "requirements.txt",
    "gunicorn.conf.py",
    "deployment.json",
    "addon/__init__.py",
    "addon/static/logo.png",
    "cards/locales/de/LC_MESSAGES/messages.po",
]


def gcloud_rules() -> str:
    """.gcloudignore with its `#!include:` lines expanded, as gcloud reads it (gitignore syntax otherwise)."""
    lines = []
    for line in (ROOT / ".gcloudignore").read_text().splitlines():
        if line.startswith("#!include:"):
            lines.extend((ROOT / line.removeprefix("#!include:").strip()).read_text().splitlines())
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def ignored(tree: Path, rules: str, paths: list[str]) -> set[str]:
    """Which of `paths`, created in a fresh repository under `tree` with `rules` as its .gitignore, git ignores."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    (tree / ".gitignore").write_text(rules)
    for path in paths:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text("private" if path in PRIVATE else "shipped")
    result = subprocess.run(
        ["git", "-C", str(tree), "check-ignore", *paths], capture_output=True, text=True, check=False
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("rules", [".gitignore", ".gcloudignore"])
def test_private_files_are_neither_committed_nor_uploaded(tmp_path: Path, rules: str) -> None:
    text = (ROOT / ".gitignore").read_text() if rules == ".gitignore" else gcloud_rules()

    assert ignored(tmp_path, text, PRIVATE + SHIPPED) == set(PRIVATE)


def test_the_upload_leaves_out_what_only_development_needs(tmp_path: Path) -> None:
    development = ["tests/test_store.py", "bench/click.py", "scripts/test", ".ci/run", ".venv/bin/python"]

    assert ignored(tmp_path, gcloud_rules(), development + SHIPPED) == set(development)
