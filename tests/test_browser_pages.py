"""Every public and admin page in a real browser at 1366 px and on a 390 px phone:
nothing wider than the window, and axe-core finds no accessibility violation.

axe-core comes from npm into ``tests/.axe`` (``make tests/.axe/...``, which
``make test`` runs first), never from a CDN; it is injected with
``page.evaluate`` (DevTools protocol), which a page's CSP does not block.
Screenshots go to tests/screenshots/ (not committed).
"""

# The fixtures of test_browser are imported, and named as parameters (pytest).
# ruff: noqa: F811
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from service.accounts import create_token
from service.entries.service import get_city
from service.questionnaire import importer
from service.store.models import Subscription, db
from service.vocab import SubscriptionState
from tests.conftest import Api, event_body, practice_body
from tests.test_browser import EMAIL, PASSWORD, SCREENSHOTS, browser, site  # noqa: F401
from tests.test_search import add_mirrored

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

ROOT = Path(__file__).resolve().parent.parent
AXE_TARGET = "tests/.axe/node_modules/axe-core/axe.min.js"
SAMPLE = ROOT / "tests" / "data" / "questionnaires" / "omsk-2020.txt"
VIEWPORTS = {
    "desktop": ({"width": 1366, "height": 900}, False),
    "phone": ({"width": 390, "height": 844}, True),
}
PUBLIC = [
    ("overview", "/"),
    ("tag", "/?tag=онлайн"),
    ("cities", "/cities"),
    ("city", "/cities/omsk"),
    ("mirrored-city", "/cities/irkutsk"),
    ("topics", "/topics"),
    ("topic", "/topics/culture"),
    ("network", "/overview"),
    ("feeds", "/feeds"),
    ("search", "/search?q=день+города+онлайн"),
    ("search-empty", "/search"),
    ("practice", "/practices/1"),
    ("event", "/events/2"),
    ("api-docs", "/api/v1/docs"),
    ("login", "/admin/login"),
    ("not-found", "/practices/999999"),
]
ADMIN = [
    ("admin-dashboard", "/admin/"),
    ("admin-new-practice", "/admin/practices/new"),
    ("admin-new-event", "/admin/events/new"),
    ("admin-edit-practice", "/admin/practices/1/edit"),
    ("admin-edit-event", "/admin/events/2/edit"),
    ("admin-delete", "/admin/practices/1/delete"),
    ("admin-import", "/admin/import"),
    ("admin-review", "/admin/import/1"),
    ("admin-tokens", "/admin/tokens"),
    ("admin-subscriptions", "/admin/subscriptions"),
    ("admin-city", "/admin/city"),
]
#: How far the page is wider than the window. On a phone Chrome widens the layout
#: viewport (``innerWidth``) to an overflowing page, so the window's own width is given.
OVERFLOW = "width => document.documentElement.scrollWidth - Math.min(window.innerWidth, width)"
CUT_TABLES = """() => [...document.querySelectorAll("div.scroll:not(.chart-box)")]
  .filter(box => box.offsetParent !== null && box.scrollWidth > box.clientWidth + 1)
  .map(box => (box.querySelector("caption, th") || box).textContent.trim().slice(0, 60))"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's source, installed from npm into tests/.axe by the Makefile's rule."""
    path = ROOT / AXE_TARGET
    if not path.exists():
        try:
            subprocess.run(["make", AXE_TARGET], cwd=ROOT, check=True, timeout=180)
        except (OSError, subprocess.SubprocessError) as error:
            pytest.skip(f"axe-core could not be installed from npm: {error}")
    if not path.exists():
        pytest.skip("axe-core could not be installed from npm (make tests/.axe/...)")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def network(site: tuple[Flask, str]) -> tuple[Flask, str]:
    """The demo instance plus another city, a mirrored one, tags and an import to review."""
    app, base = site
    api = Api(app, app.test_client())
    api.city("tomsk", "Томск")
    token = api.token("tomsk")
    long_title = "Информатизация органов местного самоуправления: единая цифровая платформа"
    api.post("/api/v1/practices", practice_body(title=long_title), token)
    api.post("/api/v1/events", event_body(title="Томск: День города", participants=380000), token)
    add_mirrored(app, "Иркутск: фестиваль на Байкале", "Дельфийские игры.", topics=["culture"])
    long_url = "https://very-long-host-name.krasnoyarsk.example/feeds/" + "x" * 60 + ".atom"
    with app.app_context():
        importer.stage_document("omsk-2020.txt", SAMPLE.read_bytes(), get_city("omsk"))
        create_token(get_city("omsk"), "Сайт администрации: публикация из системы документооборота")
        # A subscription that failed (as the mirror records it), with a long address.
        db.session.add(
            Subscription(
                url=long_url,
                title="Красноярск: все записи",
                state=SubscriptionState.ERROR,
                failures=3,
                last_error="Ошибка соединения: сервер не принимает соединения",
                next_poll=datetime.now(UTC) + timedelta(days=1),
            )
        )
        db.session.commit()
    return app, base


@contextmanager
def opened(browser: Browser, viewport: str) -> Iterator[Page]:
    """A page in a fresh browser context of the viewport's size (closed afterwards)."""
    size, mobile = VIEWPORTS[viewport]
    context = browser.new_context(viewport=size, locale="ru-RU", is_mobile=mobile)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
    finally:
        context.close()


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(f"{base}/admin/")


def check_page(page: Page, base: str, name: str, path: str, axe_source: str) -> list[Any]:
    """Open the page; return its problems: overflow in pixels and axe's violations."""
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status < 500, (path, response and response.status)
    problems: list[Any] = []
    width = (page.viewport_size or {"width": 0})["width"]
    overflow = page.evaluate(OVERFLOW, width)
    if overflow > 0:
        wide = page.evaluate(
            """width => {
              const clipped = e => {
                for (let p = e.parentElement; p; p = p.parentElement) {
                  const x = getComputedStyle(p).overflowX;
                  if (x === "auto" || x === "scroll" || x === "hidden") return true;
                }
                return false;
              };
              return [...document.querySelectorAll("body *")]
                .filter(e => e.getBoundingClientRect().right > width + 1 && !clipped(e))
                .slice(0, 8).map(e => e.tagName + "." + e.className + "#" + e.id);
            }""",
            width,
        )
        problems.append(("overflow", overflow, wide))
    if width > 1000:  # a wide screen shows whole tables, without scrolling them sideways
        cut = page.evaluate(CUT_TABLES)
        if cut:
            problems.append(("table wider than its box", cut))
    page.evaluate(axe_source + "\n;window.axe.version")
    problems += page.evaluate(AXE_RUN)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    return [(path, problem) for problem in problems]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_fits_and_passes_axe(
    network: tuple[Flask, str],
    browser: Browser,
    axe_source: str,
    viewport: str,
) -> None:
    _, base = network
    problems: list[Any] = []
    with opened(browser, viewport) as page:
        for name, path in PUBLIC:
            problems += check_page(page, base, f"{viewport}-{name}", path, axe_source)
        _log_in(page, base)
        for name, path in ADMIN:
            problems += check_page(page, base, f"{viewport}-{name}", path, axe_source)
    assert problems == [], "\n".join(map(str, problems))


def test_a_feed_opened_in_the_browser_is_served_with_its_stylesheet(
    site: tuple[Flask, str],
    browser: Browser,
) -> None:
    """The browser gets the feed and the stylesheet it names from this site."""
    _, base = site
    with opened(browser, "desktop") as page:
        xsl = page.request.get(f"{base}/feeds/feed.xsl")
        assert xsl.ok and xsl.headers["content-type"].startswith("text/xsl")
        feed = page.request.get(f"{base}/feeds/all.atom").text()
        assert '<?xml-stylesheet type="text/xsl" href="/feeds/feed.xsl"?>' in feed
        page.goto(f"{base}/feeds/all.atom")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "feed-in-browser.png"), full_page=True)


def test_header_search(network: tuple[Flask, str], browser: Browser) -> None:
    """The header's search box, from a topic page on a phone, lands on the results."""
    _, base = network
    with opened(browser, "phone") as page:
        page.goto(f"{base}/topics")
        nav = page.get_by_role("navigation", name="Разделы")
        expect(nav.get_by_role("link", name="Темы")).to_have_attribute("aria-current", "page")
        page.get_by_role("searchbox", name="Поиск по записям").fill("день города")
        page.get_by_role("button", name="Найти").click()
        page.wait_for_url("**/search?q=*")
        expect(page.locator("article.card", has_text="Томск: День города")).to_be_visible()
        expect(nav.get_by_role("link", name="Поиск")).to_have_attribute("aria-current", "page")
