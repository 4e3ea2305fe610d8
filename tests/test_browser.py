"""The site in a real browser: Debian's Chromium driven by Playwright, against the app
served by a real HTTP server on 127.0.0.1, with CSRF protection on as in production.

Screenshots of the main pages go to tests/screenshots/ (not committed) for a person
to look at.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from service import create_app
from service.accounts import create_admin
from service.cli.commands import load_demo
from service.entries.service import get_city
from service.store.models import db
from tests.conftest import Api, base_config, event_body, practice_body
from tests.test_search import add_mirrored

pytestmark = [
    pytest.mark.browser,
    # One real database is enough here; search and pages are tested on both elsewhere.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
EMAIL, PASSWORD = "admin@omsk.example", "correct horse 1"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make system-tools)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app with CSRF on, served on 127.0.0.1; an Omsk admin exists."""
    app = create_app(base_config(database_url, tmp_path) | {"WTF_CSRF_ENABLED": True})
    with app.app_context():
        load_demo()  # the Omsk sample note and its events, published
        create_admin(EMAIL, get_city("omsk"), PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A browser tab; every test using it also checks that the Content-Security-Policy
    (no inline script or style, images from the site only) refused nothing."""
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not refused, refused


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_admin_posts_finds_edits_and_deletes_a_note(site: tuple[Flask, str], page: Page) -> None:
    _, base = site
    page.goto(f"{base}/admin/")
    expect(page).to_have_title("Вход для администраторов — Обмен опытом АСДГ")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Кабинет: Омск")).to_be_visible()

    # A form with a mistake: the message is next to the field, the text stays.
    page.get_by_role("link", name="Новая практика").click()
    page.get_by_label("Заголовок").fill("Культура онлайн: Омск, 2021")
    page.get_by_label("Направление деятельности").fill("Отдел культуры")
    page.get_by_role("spinbutton", name="Год").fill("1800")
    page.get_by_label("Чем занимается подразделение").fill("Праздники и фестивали города.")
    page.get_by_label("Что сделано за год").fill("Проведены Дельфийские игры в онлайн режиме.")
    page.get_by_label("Культура", exact=True).check()
    page.get_by_label("Метки").fill("онлайн, фестиваль")
    page.get_by_label("Опубликовать").check()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#year-error")).to_have_text("Допустимо от 1990 до 2100.")
    expect(page.get_by_label("Заголовок")).to_have_value("Культура онлайн: Омск, 2021")
    expect(page.get_by_label("Культура", exact=True)).to_be_checked()
    shot(page, "admin-form-errors")

    page.get_by_role("spinbutton", name="Год").fill("2021")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("сохранено и опубликовано")

    # On the overview, and in the feed.
    page.goto(f"{base}/")
    card = page.locator("article.card", has_text="Культура онлайн: Омск, 2021")
    expect(card).to_be_visible()
    shot(page, "overview")
    feed = page.request.get(f"{base}/feeds/all.atom")
    assert feed.ok and "application/atom+xml" in feed.headers["content-type"]
    assert "Культура онлайн: Омск, 2021" in feed.text()

    # Found by another form of the words, highlighted.
    page.get_by_role("link", name="Поиск", exact=True).click()
    page.get_by_label("Слова для поиска").fill("дельфийских игр")
    page.get_by_role("button", name="Найти").click()
    result = page.locator("article.card", has_text="Культура онлайн: Омск, 2021")
    expect(result.locator("mark").first).to_have_text("Дельфийские")
    shot(page, "search")

    # The note's page: sections under their questions.
    result.get_by_role("link", name="Культура онлайн: Омск, 2021").click()
    expect(page.get_by_role("heading", name="Что удалось сделать в 2021 году")).to_be_visible()
    expect(page.get_by_role("heading", name="Та же тема в других городах")).to_be_visible()
    shot(page, "practice")

    # Edit it.
    page.get_by_role("link", name="Редактировать").click()
    page.get_by_label("Заголовок").fill("Культура и игры онлайн: Омск, 2021")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Культура и игры онлайн")
    page.goto(f"{base}/")
    expect(page.get_by_role("link", name="Культура и игры онлайн: Омск, 2021")).to_be_visible()
    note_url = page.get_by_role("link", name="Культура и игры онлайн: Омск, 2021").get_attribute(
        "href"
    )

    # Delete it.
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="Удалить «Культура и игры онлайн: Омск, 2021»").click()
    page.get_by_role("button", name="Удалить").click()
    expect(page.get_by_role("status")).to_contain_text("удалено")
    response = page.goto(f"{base}{note_url}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    assert "deleted-entry" in page.request.get(f"{base}/feeds/all.atom").text()


def test_main_pages_on_a_phone(site: tuple[Flask, str], browser: Browser) -> None:
    app, base = site
    api = Api(app, app.test_client())
    api.city("tomsk", "Томск")
    token = api.token("tomsk")
    api.post("/api/v1/practices", practice_body(title="Томск: культура онлайн"), token)
    api.post("/api/v1/events", event_body(title="Томск: День города"), token)
    add_mirrored(app, "Иркутск: фестиваль на Байкале", "Дельфийские игры.", topics=["culture"])
    context = browser.new_context(viewport=PHONE, locale="ru-RU", is_mobile=True)
    page = context.new_page()
    try:
        for name, path in [
            ("phone-overview", "/"),
            ("phone-practice", "/practices/1"),
            ("phone-event", "/events/2"),
            ("phone-city", "/cities/omsk"),
            ("phone-topic", "/topics/culture"),
            ("phone-search", "/search?q=мероприятие"),
            ("phone-chart", "/overview"),
        ]:
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, path
            # Readable on a phone: nothing wider than the screen except scrollable tables/charts.
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, overflow)
            shot(page, name)
        page.set_viewport_size(DESKTOP)
        page.goto(f"{base}/overview")
        expect(page.locator("svg.chart-wide")).to_have_count(3)
        shot(page, "chart")
    finally:
        context.close()


def test_admin_imports_questionnaires_reviews_and_publishes(
    site: tuple[Flask, str], page: Page
) -> None:
    from tests.documents import make_docx, make_odt

    _, base = site
    data = Path(__file__).parent / "data" / "questionnaires"
    magadan = (data / "variants" / "magadan-2022-social.txt").read_text(encoding="utf-8")
    bratsk = (data / "variants" / "bratsk-2021-ecology.txt").read_text(encoding="utf-8")
    page.goto(f"{base}/admin/")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()

    # Two files at once: a Word document and an OpenDocument one.
    page.get_by_role("link", name="Загрузить анкету").click()
    page.get_by_label("Файлы анкет").set_input_files(
        [
            {
                "name": "Магадан 2022.docx",
                "mimeType": "application/octet-stream",
                "buffer": make_docx(magadan),
            },
            {
                "name": "Братск 2021.odt",
                "mimeType": "application/octet-stream",
                "buffer": make_odt(bratsk),
            },
        ]
    )
    page.get_by_role("button", name="Загрузить и проверить").click()
    expect(page.get_by_role("status")).to_contain_text("Загружено анкет: 2")

    # The review: the source beside the drafts, every guess flagged.
    page.get_by_role("link", name="Магадан 2022.docx").click()
    expect(page.get_by_role("heading", name="Текст анкеты")).to_be_visible()
    expect(page.locator(".source-text")).to_contain_text("Адресную помощь получили 3400 семей")
    drafts = page.locator("fieldset.review-draft")
    action = drafts.filter(has_text="Благотворительная акция «Дорога в школу»")
    expect(action.locator(".flag", has_text="даты не указаны — уточните")).to_be_visible()
    expect(action.locator(".flag", has_text="проверьте темы")).to_be_visible()
    shot(page, "import-review")

    # A mistake first: all errors at once, the focus on their summary.
    action.get_by_label("Название").fill("")
    starts = action.get_by_role("group", name="Начало")
    starts.get_by_role("textbox", name="День").fill("31")
    starts.get_by_role("textbox", name="Месяц").fill("2")
    starts.get_by_role("textbox", name="Год").fill("2022")
    page.get_by_role("button", name="Опубликовать отмеченные").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Название")
    expect(summary).to_contain_text("Такой даты нет")
    shot(page, "import-review-errors")

    # Fix the flagged field and publish everything in one step.
    action = page.locator("fieldset.review-draft", has_text="Дорога в школу")
    action.get_by_label("Название").fill("Благотворительная акция «Дорога в школу»")
    starts = action.get_by_role("group", name="Начало")
    starts.get_by_role("textbox", name="День").fill("15")
    starts.get_by_role("textbox", name="Месяц").fill("8")
    page.get_by_role("button", name="Опубликовать отмеченные").click()
    expect(page.get_by_role("status")).to_contain_text("Проверка анкеты завершена")

    # The note on the overview and in the feed, the event with its date.
    page.goto(f"{base}/")
    expect(
        page.locator("article.card", has_text="Управление социальной политики").first
    ).to_be_visible()
    feed = page.request.get(f"{base}/feeds/all.atom").text()
    assert "Управление социальной политики: Омск, 2022" in feed
    assert "Благотворительная акция «Дорога в школу»" in feed
    events = page.request.get(f"{base}/api/v1/events?per_page=100").json()["items"]
    charity = next(e for e in events if e["title"] == "Благотворительная акция «Дорога в школу»")
    assert charity["starts_on"] == "2022-08-15"

    # The second questionnaire waits for its review.
    page.goto(f"{base}/admin/import")
    page.get_by_role("link", name="Братск 2021.odt").click()
    subbotnik = page.locator("fieldset.review-draft", has_text="Общегородской субботник")
    expect(subbotnik).to_be_visible()


def test_pages_work_under_the_content_security_policy(
    site: tuple[Flask, str], page: Page, browser: Browser
) -> None:
    """Every page keeps its stylesheet, script and charts under the CSP, which refuses
    inline style and script (the ``page`` fixture fails on any refusal it logs)."""
    _, base = site
    for path in ("/", "/practices/1", "/cities/omsk", "/overview", "/search?q=игры",
                 "/api/v1/docs", "/admin/login"):  # fmt: skip
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        # The stylesheet applied: the body is not in the browser's default serif font.
        font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
        assert "Times" not in font, (path, font)
    # The admin form's script (static/forms.js) moves the focus to the error summary.
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.goto(f"{base}/admin/practices/new")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#error-summary")).to_be_focused()

    # The policy is enforced: an inline style and an inline script added now are refused
    # (in a tab of its own: the refusals here are expected).
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(f"{base}/")
    page.evaluate(
        """() => {
            const style = document.createElement("style");
            style.textContent = "body { background: red }";
            document.head.appendChild(style);
            const script = document.createElement("script");
            script.textContent = "window.ran = true";
            document.head.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran === undefined")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 0, 0)"
    assert any("Content Security Policy" in text for text in refused), refused
    context.close()
