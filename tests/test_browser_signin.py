"""The sign-in window in a real browser: Chromium opens it from the card, it reaches the service and closes itself."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from addon.crypto import SecretBox
from addon.store import ProviderGrant, open_store
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE
from tests.live_server import CHROMIUM, free_port, launched_chromium, running_gunicorn

SECRET_KEY = "browser-test-secret-key-0123456789abcdef"

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="Chromium missing: scripts/test installs it")


@pytest.fixture(scope="module")
def zoom() -> Iterator[FakeZoom]:
    fake = FakeZoom().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def site(zoom: FakeZoom, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The add-on under gunicorn, reachable by the browser at its own base URL; yields (root, database)."""
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    database = tmp / "addon.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADDON_", "ZOOM_", "WEBEX_"))}
    env.update(
        {
            # Development mode: the only mode that accepts a plain-http base URL the browser can reach.
            "ADDON_ENV": "development",
            "ADDON_BASE_URL": f"http://127.0.0.1:{port}",
            "ADDON_SECRET_KEY": SECRET_KEY,
            "ADDON_STORE": f"sqlite:///{database}",
            "ZOOM_API_BASE": zoom.api_base,
            "ZOOM_OAUTH_BASE": zoom.oauth_base,
            "ZOOM_CLIENT_ID": zoom.client_id,
            "ZOOM_CLIENT_SECRET": zoom.client_secret,
        }
    )
    with running_gunicorn(env, port, tmp / "gunicorn.log") as root:
        yield root, database


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def start_url(root: str, provider: str = "zoom") -> str:
    ticket = SecretBox(SECRET_KEY).sign_ticket("connect", {"sub": ALICE.sub, "provider": provider}, 600)
    return f"{root}/connect/{provider}/start?ticket={ticket}"


def open_sign_in_window(page: Page, root: str, url: str) -> Page:
    """What Google does for an openLink with openAs OVERLAY: a window opened by script, which may close itself."""
    page.goto(root + "/healthz")
    with page.expect_popup() as popup:
        page.evaluate("url => window.open(url, 'signin', 'width=500,height=600')", url)
    return popup.value


def test_the_sign_in_window_connects_the_account_and_closes_itself(
    page: Page, site: tuple[str, Path], zoom: FakeZoom
) -> None:
    root, database = site
    zoom.next_login("alice@corp.example")

    window = open_sign_in_window(page, root, start_url(root))
    with window.expect_event("close", timeout=10_000):
        window.locator("#continue").click()
        expect(window).to_have_title(re.compile("is connected"), timeout=10_000)

    assert page.context.pages == [page]
    store = open_store(f"sqlite:///{database}")
    try:
        grant = store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom"))
    finally:
        store.close()
    assert grant is not None and grant.status == "active"


def test_a_declined_sign_in_stays_open_and_says_so(page: Page, site: tuple[str, Path], zoom: FakeZoom) -> None:
    root, _ = site
    zoom.deny_next()

    window = open_sign_in_window(page, root, start_url(root))
    window.locator("#continue").click()
    expect(window).to_have_title(re.compile("was not connected"), timeout=10_000)

    assert "You did not allow access" in window.locator("body").inner_text()
    assert len(page.context.pages) == 2 and not window.is_closed()


def test_an_expired_link_tells_the_user_what_to_do(page: Page, site: tuple[str, Path]) -> None:
    root, _ = site

    page.goto(f"{root}/connect/zoom/start?ticket=expired.or.forged")

    assert "expired" in page.title()
    assert "click Sign in" in page.locator("body").inner_text()
