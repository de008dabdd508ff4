"""The sign-in window in a real browser: Chromium opens it from the card, it reaches the service and closes itself."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

from addon.crypto import SecretBox
from addon.store import ProviderGrant, open_store
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE
from tests.live_server import free_port, running_gunicorn

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SECRET_KEY = "browser-test-secret-key-0123456789abcdef"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="Chromium and ChromeDriver missing: scripts/test installs them"
)


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


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def start_url(root: str, provider: str = "zoom") -> str:
    ticket = SecretBox(SECRET_KEY).sign_ticket("connect", {"sub": ALICE.sub, "provider": provider}, 600)
    return f"{root}/connect/{provider}/start?ticket={ticket}"


def open_sign_in_window(browser: webdriver.Chrome, root: str, url: str) -> str:
    """What Google does for an openLink with openAs OVERLAY: a window opened by script, which may close itself."""
    browser.get(root + "/healthz")
    opener = browser.current_window_handle
    browser.execute_script("window.open(arguments[0], 'signin', 'width=500,height=600')", url)
    WebDriverWait(browser, 10).until(lambda b: len(b.window_handles) == 2)
    browser.switch_to.window(next(h for h in browser.window_handles if h != opener))
    return opener


def test_the_sign_in_window_connects_the_account_and_closes_itself(
    browser: webdriver.Chrome, site: tuple[str, Path], zoom: FakeZoom
) -> None:
    root, database = site
    zoom.next_login("alice@corp.example")

    opener = open_sign_in_window(browser, root, start_url(root))
    browser.find_element("id", "continue").click()
    WebDriverWait(browser, 10).until(lambda b: "is connected" in b.title)
    WebDriverWait(browser, 10).until(lambda b: b.window_handles == [opener])

    store = open_store(f"sqlite:///{database}")
    try:
        grant = store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom"))
    finally:
        store.close()
    assert grant is not None and grant.status == "active"


def test_a_declined_sign_in_stays_open_and_says_so(
    browser: webdriver.Chrome, site: tuple[str, Path], zoom: FakeZoom
) -> None:
    root, _ = site
    zoom.deny_next()

    opener = open_sign_in_window(browser, root, start_url(root))
    browser.find_element("id", "continue").click()
    WebDriverWait(browser, 10).until(lambda b: "was not connected" in b.title)

    assert "You did not allow access" in browser.find_element("tag name", "body").text
    assert len(browser.window_handles) == 2 and opener in browser.window_handles


def test_an_expired_link_tells_the_user_what_to_do(browser: webdriver.Chrome, site: tuple[str, Path]) -> None:
    root, _ = site

    browser.get(f"{root}/connect/zoom/start?ticket=expired.or.forged")

    assert "expired" in browser.title
    assert "click Sign in" in browser.find_element("tag name", "body").text
