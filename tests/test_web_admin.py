"""The admin pages, through HTTP: login, entry forms, publishing, deleting, tokens, CSRF."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service import create_app
from service.store.models import City, db
from tests.conftest import Api, base_config, event_body, practice_body
from tests.feedserver import Instance

PASSWORD = "correct horse 1"


class Admin:
    """Logs a test client in as a city's admin (Flask tutorial's AuthActions)."""

    def __init__(self, client: FlaskClient, email: str) -> None:
        self.client = client
        self.email = email

    def login(self, password: str = PASSWORD) -> TestResponse:
        return self.client.post("/admin/login", data={"email": self.email, "password": password})

    def logout(self) -> TestResponse:
        return self.client.post("/admin/logout")


def make_admin(api: Api, runner: Any, slug: str, name: str, *, instance: bool = False) -> str:
    """A city and its admin, made with the CLI as an operator would."""
    api.city(slug, name)
    email = f"admin@{slug}.example"
    role = ["--instance-admin"] if instance else []
    result = runner.invoke(
        args=["admin", "create", email, "--city", slug, *role, "--password-stdin"], input=PASSWORD
    )
    assert result.exit_code == 0, result.output
    return email


def logged_in(
    app: Flask, api: Api, runner: Any, slug: str, name: str, *, instance: bool = False
) -> Admin:
    """A city, its admin (with the instance-admin role if asked), logged in in a client."""
    admin = Admin(app.test_client(), make_admin(api, runner, slug, name, instance=instance))
    assert admin.login().status_code == 302
    return admin


@pytest.fixture
def omsk(app: Flask, api: Api, runner: Any) -> Admin:
    return logged_in(app, api, runner, "omsk", "Омск")


@pytest.fixture
def tomsk(app: Flask, api: Api, runner: Any) -> Admin:
    return logged_in(app, api, runner, "tomsk", "Томск")


@pytest.fixture
def manager(app: Flask, api: Api, runner: Any) -> Admin:
    """An admin with the instance-admin role (subscriptions, other instance-wide settings)."""
    return logged_in(app, api, runner, "novosibirsk", "Новосибирск", instance=True)


def practice_form(**over: Any) -> dict[str, Any]:
    """A practice note as the browser sends the form."""
    form: dict[str, Any] = {
        "title": "Культура онлайн: Омск, 2020",
        "area": "Организационная деятельность",
        "year": "2020",
        "summary": "Планирование работы.\n\n- организация мероприятий",
        "achievements": "Проведены Дельфийские игры в онлайн режиме.",
        "plans": "Провести День города.",
        "assistance": "Обмен опытом.",
        "body": "",
        "topics": ["culture", "organization-hr"],
        "tags": "онлайн, молодёжь",
        "contact_name": "Иванова И. И.",
        "contact_position": "",
        "contact_email": "ivanova@omsk.example",
        "contact_phone": "",
        "status": "published",
    }
    form.update(over)
    return form


def date_parts(name: str, value: str) -> dict[str, str]:
    year, month, day = value.split("-") if value else ("", "", "")
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def event_form(**over: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "День города",
        # Dates as day, month and year (the gov.uk pattern).
        **date_parts("starts_on", "2020-08-01"),
        **date_parts("ends_on", "2020-08-02"),
        "format": "online",
        "level": "municipal",
        "location": "Омск",
        "participants": "1200",
        "summary": "Праздник онлайн.",
        "results": "",
        "topics": ["culture"],
        "tags": "",
        "related": "",
        "status": "published",
    }
    form.update(over)
    return form


def field_errors(response: TestResponse) -> dict[str, str]:
    html = response.get_data(as_text=True)
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">(.*?)</p>', html))


def new_practice(admin: Admin, **over: Any) -> int:
    response = admin.client.post("/admin/practices/new", data=practice_form(**over))
    assert response.status_code == 302, field_errors(response)
    listing = admin.client.get("/admin/").get_data(as_text=True)
    numbers = re.findall(r'href="/admin/practices/(\d+)/edit"', listing)
    return max(int(n) for n in numbers)


# -- login ----------------------------------------------------------------------


def test_admin_pages_need_a_login(client: FlaskClient) -> None:
    for path in ("/admin/", "/admin/practices/new", "/admin/events/1/edit", "/admin/tokens"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.startswith("/admin/login?next=")
    assert client.post("/admin/practices/new", data=practice_form()).status_code == 302


def test_login_and_logout(app: Flask, api: Api, runner: Any) -> None:
    email = make_admin(api, runner, "omsk", "Омск")
    admin = Admin(app.test_client(), email)
    wrong = admin.login("wrong password")
    assert wrong.status_code == 401
    html = wrong.get_data(as_text=True)
    assert "Неверный адрес или пароль" in html and f'value="{email}"' in html
    ok = admin.client.post(
        "/admin/login?next=/admin/tokens", data={"email": email.upper(), "password": PASSWORD}
    )
    assert ok.status_code == 302 and ok.location == "/admin/tokens"
    dashboard = admin.client.get("/admin/").get_data(as_text=True)
    assert "Кабинет: Омск" in dashboard and email in dashboard
    assert admin.logout().status_code == 302
    assert admin.client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target", ["http://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_away(omsk: Admin, target: str) -> None:
    response = omsk.client.post(
        "/admin/login",
        query_string={"next": target},
        data={"email": omsk.email, "password": PASSWORD},
    )
    assert response.location == "/admin/"


# -- entries ----------------------------------------------------------------------


def test_post_a_practice_through_the_form(omsk: Admin, client: FlaskClient) -> None:
    number = new_practice(omsk)
    note = client.get(f"/api/v1/practices/{number}").json
    assert note["title"] == "Культура онлайн: Омск, 2020" and note["year"] == 2020
    assert note["topics"] == ["organization-hr", "culture"]
    assert note["tags"] == ["онлайн", "молодёжь"] and note["status"] == "published"
    assert note["contact"] == {
        "name": "Иванова И. И.",
        "position": None,
        "email": "ivanova@omsk.example",
        "phone": None,
    }
    assert note["body"] == "" and note["city"] == "omsk"
    overview = client.get("/").get_data(as_text=True)
    assert "Культура онлайн: Омск, 2020" in overview
    assert "<mark>мероприятий</mark>" in client.get("/search?q=мероприятие").get_data(as_text=True)


def test_a_draft_is_not_public_until_published(omsk: Admin, client: FlaskClient) -> None:
    number = new_practice(omsk, status="draft")
    assert client.get(f"/practices/{number}").status_code == 404
    assert "Черновик" in omsk.client.get("/admin/").get_data(as_text=True)
    response = omsk.client.post(f"/admin/practices/{number}/publish")
    assert response.status_code == 302
    assert client.get(f"/practices/{number}").status_code == 200
    assert client.get(f"/api/v1/practices/{number}").json["published"] is not None


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"title": "  "}, {"title": "Поле не может быть пустым."}),
        ({"year": ""}, {"year": "Обязательное поле."}),
        ({"year": "двадцатый"}, {"year": "Ожидается целое число."}),
        ({"year": "1800"}, {"year": "Допустимо от 1990 до 2100."}),
        ({"year": "9" * 40}, {"year": "Ожидается целое число."}),
        ({"summary": ""}, {"summary": "Поле не может быть пустым."}),
        ({"area": "а" * 501}, {"area": "Длина должна быть не больше 500."}),
        ({"contact_email": "не адрес"}, {"contact_email": "Неверный адрес электронной почты."}),
        ({"topics": ["culture", "astrology"]}, {"topics": "Неизвестные коды тем: astrology."}),
        ({"tags": "x" * 61}, {"tags": "Длина должна быть не больше 60."}),
        ({"status": "secret"}, {"status": "Допустимые значения: draft, published."}),
    ],
)
def test_form_errors_are_shown_next_to_fields(
    omsk: Admin, client: FlaskClient, over: dict[str, Any], expected: dict[str, str]
) -> None:
    form = practice_form(**over)
    response = omsk.client.post("/admin/practices/new", data=form)
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == set(expected)
    for name, message in expected.items():
        assert errors[name].startswith(message)
    html = response.get_data(as_text=True)
    assert "Запись не сохранена: исправьте ошибки" in html
    # What the admin typed is still there.
    assert 'value="Культура онлайн: Омск, 2020"' in html or "title" in expected
    assert "Проведены Дельфийские игры в онлайн режиме.</textarea>" in html
    if "tags" not in expected and "topics" not in expected:
        assert 'value="culture" checked' in html and 'value="онлайн, молодёжь"' in html
    assert client.get("/api/v1/practices").json["total"] == 0


def test_edit_a_practice(omsk: Admin, client: FlaskClient) -> None:
    number = new_practice(omsk)
    form_page = omsk.client.get(f"/admin/practices/{number}/edit").get_data(as_text=True)
    assert 'value="Культура онлайн: Омск, 2020"' in form_page
    assert 'value="culture" checked' in form_page and 'value="sport" checked' not in form_page
    changed = practice_form(achievements="Открыт новый стадион.", topics=["sport"])
    response = omsk.client.post(f"/admin/practices/{number}/edit", data=changed)
    assert response.status_code == 302
    note = client.get(f"/api/v1/practices/{number}").json
    assert note["achievements"] == "Открыт новый стадион." and note["topics"] == ["sport"]
    assert "Найдено: 1" in client.get("/search?q=стадионы").get_data(as_text=True)
    assert "Ничего не нашлось" in client.get("/search?q=Дельфийские").get_data(as_text=True)
    # An invalid edit changes nothing and keeps the typed text.
    bad = omsk.client.post(
        f"/admin/practices/{number}/edit", data=practice_form(year="", plans="Новые планы")
    )
    assert bad.status_code == 422 and "Новые планы</textarea>" in bad.get_data(as_text=True)
    assert client.get(f"/api/v1/practices/{number}").json["plans"] == "Провести День города."


def test_an_edit_over_a_newer_save_is_caught(omsk: Admin, api: Api) -> None:
    """The form carries the version it started from: a save after someone else's
    (here the API's) answers 412 with the typed text kept, and changes nothing."""
    number = new_practice(omsk)
    page = omsk.client.get(f"/admin/practices/{number}/edit").get_data(as_text=True)
    found = re.search(r'name="version" value="([^"]+)"', page)
    assert found is not None
    version = found.group(1).replace("&#34;", '"')
    assert (
        api.patch(f"/api/v1/practices/{number}", {"plans": "Из API"}, api.token()).status_code
        == 200
    )
    mine = practice_form(plans="Из формы") | {"version": version}
    late = omsk.client.post(f"/admin/practices/{number}/edit", data=mine)
    html = late.get_data(as_text=True)
    assert late.status_code == 412 and "сохранил кто-то ещё" in html
    assert "Из формы</textarea>" in html
    assert api.get(f"/api/v1/practices/{number}").json["plans"] == "Из API"
    newer = re.search(r'name="version" value="([^"]+)"', html)
    assert newer is not None and newer.group(1) != found.group(1)
    again = mine | {"version": newer.group(1).replace("&#34;", '"')}
    assert omsk.client.post(f"/admin/practices/{number}/edit", data=again).status_code == 302
    assert api.get(f"/api/v1/practices/{number}").json["plans"] == "Из формы"


def test_delete_a_practice(omsk: Admin, client: FlaskClient) -> None:
    number = new_practice(omsk)
    confirm = omsk.client.get(f"/admin/practices/{number}/delete").get_data(as_text=True)
    assert "Удалить запись?" in confirm and "Подписчики получат" in confirm
    assert client.get(f"/practices/{number}").status_code == 200
    assert omsk.client.post(f"/admin/practices/{number}/delete").status_code == 302
    assert client.get(f"/practices/{number}").status_code == 404
    assert omsk.client.get(f"/admin/practices/{number}/edit").status_code == 404


def test_events_through_the_form(omsk: Admin, client: FlaskClient) -> None:
    practice = new_practice(omsk)
    uid = client.get(f"/api/v1/practices/{practice}").json["id"]
    form_page = omsk.client.get("/admin/events/new").get_data(as_text=True)
    assert f'<option value="{uid}">Культура онлайн: Омск, 2020</option>' in form_page
    bad = omsk.client.post(
        "/admin/events/new",
        data=event_form(format="", participants="-5", **{"starts_on-month": "августа"}),
    )
    assert bad.status_code == 422
    assert field_errors(bad) == {
        "starts_on": "Введите дату полностью: день, месяц и год цифрами (например, 12 06 2022).",
        "format": "Обязательное поле.",
        "participants": "Допустимо от 0 до 10000000.",
    }
    assert 'value="августа"' in bad.get_data(as_text=True)  # what was typed stays
    reversed_dates = omsk.client.post(
        "/admin/events/new", data=event_form(**date_parts("ends_on", "2020-07-01"))
    )
    assert field_errors(reversed_dates) == {"ends_on": "Дата окончания раньше даты начала."}
    assert omsk.client.post("/admin/events/new", data=event_form(related=uid)).status_code == 302
    events = client.get("/api/v1/events").json["items"]
    assert len(events) == 1 and events[0]["title"] == "День города"
    event = client.get(f"/api/v1/events/{events[0]['local_id']}").json
    assert event["related"] == uid and event["participants"] == 1200
    assert event["starts_on"] == "2020-08-01" and event["format"] == "online"
    edit = omsk.client.get(f"/admin/events/{event['local_id']}/edit").get_data(as_text=True)
    assert (
        'name="starts_on-day" inputmode="numeric" maxlength="2" autocomplete="off" value="1"'
        in edit
    )
    assert 'name="starts_on-year"' in edit and '<option value="online" selected>' in edit
    assert (
        omsk.client.post(
            f"/admin/events/{event['local_id']}/edit", data=event_form(participants="")
        ).status_code
        == 302
    )
    assert client.get(f"/api/v1/events/{event['local_id']}").json["participants"] is None


def test_unknown_kinds_and_ids(omsk: Admin) -> None:
    assert omsk.client.get("/admin/blogs/new").status_code == 404
    assert omsk.client.get("/admin/practices/999/edit").status_code == 404
    assert omsk.client.post("/admin/events/999/delete").status_code == 404


# -- one city's admin and another city's entries -------------------------------


def test_another_citys_drafts_stay_invisible(
    omsk: Admin, tomsk: Admin, client: FlaskClient
) -> None:
    draft = new_practice(omsk, status="draft", title="Секретный черновик")
    assert "Секретный черновик" not in tomsk.client.get("/admin/").get_data(as_text=True)
    assert tomsk.client.get(f"/practices/{draft}").status_code == 404
    for path in (f"/admin/practices/{draft}/edit", f"/admin/practices/{draft}/delete"):
        assert tomsk.client.get(path).status_code == 404
    assert (
        tomsk.client.post(f"/admin/practices/{draft}/edit", data=practice_form()).status_code == 404
    )
    assert tomsk.client.post(f"/admin/practices/{draft}/publish").status_code == 404
    assert tomsk.client.post(f"/admin/practices/{draft}/delete").status_code == 404
    assert "Секретный черновик" not in tomsk.client.get("/search?q=секретный").get_data(
        as_text=True
    )
    # Still there, unchanged, for Omsk.
    mine = omsk.client.get(f"/admin/practices/{draft}/edit").get_data(as_text=True)
    assert 'value="Секретный черновик"' in mine
    assert client.get(f"/practices/{draft}").status_code == 404


def test_another_citys_published_entries_cannot_be_changed(
    omsk: Admin, tomsk: Admin, client: FlaskClient
) -> None:
    number = new_practice(omsk)
    assert tomsk.client.get(f"/admin/practices/{number}/edit").status_code == 403
    changed = tomsk.client.post(f"/admin/practices/{number}/edit", data=practice_form(title="X"))
    assert changed.status_code == 403 and "Запись принадлежит другому городу" in changed.get_data(
        as_text=True
    )
    assert tomsk.client.post(f"/admin/practices/{number}/delete").status_code == 403
    assert client.get(f"/api/v1/practices/{number}").json["title"] == "Культура онлайн: Омск, 2020"


def test_mirrored_entries_cannot_be_edited(app: Flask, omsk: Admin) -> None:
    from tests.test_search import add_mirrored

    number = add_mirrored(app, "Иркутск", "Текст.")
    assert omsk.client.get(f"/admin/practices/{number}/edit").status_code == 403


# -- tokens -----------------------------------------------------------------------


def test_tokens_page(omsk: Admin, tomsk: Admin, api: Api) -> None:
    page = omsk.client.post("/admin/tokens", data={"label": "Сайт мэрии"})
    html = page.get_data(as_text=True)
    token = re.search(r'<code id="new-token">([^<]+)</code>', html)
    assert token and "Сайт мэрии" in html
    plain = token.group(1)
    # Shown once only.
    assert plain not in omsk.client.get("/admin/tokens").get_data(as_text=True)
    created = api.post("/api/v1/practices", practice_body(), plain)
    assert created.status_code == 201 and created.json["city"] == "omsk"
    # Tomsk's admin does not see Omsk's tokens and cannot revoke them.
    assert "Сайт мэрии" not in tomsk.client.get("/admin/tokens").get_data(as_text=True)
    token_id = re.search(r'action="/admin/tokens/(\d+)/revoke"', html)
    assert token_id
    assert tomsk.client.post(f"/admin/tokens/{token_id.group(1)}/revoke").status_code == 404
    assert api.post("/api/v1/practices", practice_body(), plain).status_code == 201
    # First a page that asks; nothing happens until the admin confirms.
    asked = omsk.client.post(f"/admin/tokens/{token_id.group(1)}/revoke")
    assert asked.status_code == 200 and "Отозвать ключ «Сайт мэрии»?" in asked.get_data(
        as_text=True
    )
    assert api.post("/api/v1/practices", practice_body(), plain).status_code == 201
    revoke = f"/admin/tokens/{token_id.group(1)}/revoke"
    assert omsk.client.post(revoke, data={"confirm": "1"}).status_code == 302
    assert "отозван" in omsk.client.get("/admin/tokens").get_data(as_text=True)
    assert api.post("/api/v1/practices", practice_body(), plain).status_code == 401
    too_long = omsk.client.post("/admin/tokens", data={"label": "я" * 201})
    assert too_long.status_code == 422 and "new-token" not in too_long.get_data(as_text=True)


# -- CSRF -------------------------------------------------------------------------


@pytest.fixture
def csrf_app(database_url: str, tmp_path: Path, app: Flask) -> Iterator[Flask]:
    """The same database, with CSRF protection on as in production."""
    config = base_config(database_url, tmp_path) | {"WTF_CSRF_ENABLED": True}
    protected = create_app(config)
    yield protected
    with protected.app_context():
        db.session.remove()
        db.engine.dispose()


def test_forms_need_the_csrf_token(csrf_app: Flask, api: Api, runner: Any) -> None:
    email = make_admin(api, runner, "omsk", "Омск")
    client = csrf_app.test_client()
    refused = client.post("/admin/login", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 400
    assert "Форма устарела" in refused.get_data(as_text=True)
    login_page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token
    login = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/admin/login", data=login).status_code == 302
    assert client.post("/admin/practices/new", data=practice_form()).status_code == 400
    form_page = client.get("/admin/practices/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_page)
    assert token
    posted = client.post("/admin/practices/new", data=practice_form(csrf_token=token.group(1)))
    assert posted.status_code == 302
    # The API uses bearer tokens, not cookies: no CSRF token needed there.
    with csrf_app.app_context():
        assert db.session.scalar(db.select(City).where(City.slug == "omsk")) is not None
    api_client = csrf_app.test_client()
    headers = {"Authorization": f"Bearer {api.token('omsk')}"}
    assert api_client.post("/api/v1/events", json=event_body(), headers=headers).status_code == 201


# -- subscriptions --------------------------------------------------------------


def flashed(response: TestResponse) -> str:
    html = response.get_data(as_text=True)
    found = re.search(r'<div class="flash" role="status"><p>(.*?)</p>', html)
    return found.group(1) if found else ""


def test_subscriptions_need_the_instance_admin_role(omsk: Admin, manager: Admin) -> None:
    """A city's admin manages its city, not the instance: 403 and no link to the page."""
    for path in ("/admin/subscriptions", "/admin/subscriptions/1/poll"):
        answer = omsk.client.post(path) if path.endswith("poll") else omsk.client.get(path)
        assert answer.status_code == 403, path
        assert "администратора сервера" in answer.get_data(as_text=True)
    assert "/admin/subscriptions" not in omsk.client.get("/admin/").get_data(as_text=True)
    assert "/admin/subscriptions" in manager.client.get("/admin/").get_data(as_text=True)
    assert manager.client.get("/admin/subscriptions").status_code == 200


def test_subscriptions_page(app: Flask, manager: Admin, source: Instance, runner: Any) -> None:
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_TIMEOUT=5.0)
    token = source.add_city("irkutsk", "Иркутск", "Иркутская область")
    source.api("POST", "/api/v1/practices", token, practice_body(title="Иркутские игры"))
    client = manager.client
    assert "Подписок пока нет" in client.get("/admin/subscriptions").get_data(as_text=True)

    bad = client.post("/admin/subscriptions", data={"url": "ftp://nowhere"})
    assert bad.status_code == 422
    assert field_errors(bad)["url"].startswith("Укажите адрес ленты")
    assert 'value="ftp://nowhere"' in bad.get_data(as_text=True)
    missing = client.post("/admin/subscriptions", data={"url": source.url("/nothing-here")})
    assert missing.status_code == 422 and "Лента недоступна" in field_errors(missing)["url"]

    # The source's overview page names its feeds (autodiscovery), so its address is enough.
    added = client.post("/admin/subscriptions", data={"url": source.url("/")})
    assert added.status_code == 302
    page = client.get("/admin/subscriptions").get_data(as_text=True)
    assert source.url("/feeds/all.atom") in page and "ещё не было" in page
    again = client.post("/admin/subscriptions", data={"url": source.url("/feeds/all.atom")})
    assert again.status_code == 409 and "уже есть" in field_errors(again)["url"]

    number = re.search(r'action="/admin/subscriptions/(\d+)/poll"', page)
    assert number
    polled = client.post(f"/admin/subscriptions/{number.group(1)}/poll", follow_redirects=True)
    assert "запрошен" in flashed(polled) and "ждёт обработчика" in polled.get_data(as_text=True)
    assert runner.invoke(args=["mirror", "poll"]).exit_code == 0  # the worker's part
    html = client.get("/admin/subscriptions").get_data(as_text=True)
    assert "лента прочитана; новых записей 1" in html
    assert "работает" in html and re.search(r"<dt>Получено записей</dt><dd>1</dd>", html)
    overview = client.get("/").get_data(as_text=True)
    assert "Иркутские игры" in overview and "с другого сервера" in overview

    # The source goes away: the poll fails, the page says why.
    source.stop()
    client.post(f"/admin/subscriptions/{number.group(1)}/poll")
    assert runner.invoke(args=["mirror", "poll"]).exit_code == 0
    html = client.get("/admin/subscriptions").get_data(as_text=True)
    assert "Опрос " in html and ": ошибка" in html
    assert "<dt>Последняя ошибка</dt>" in html and "1 неудача подряд" in html

    remove = f"/admin/subscriptions/{number.group(1)}/remove"
    asked = client.post(remove, data={"purge": "1"})
    assert asked.status_code == 200 and "удалить все полученные из неё записи?" in asked.get_data(
        as_text=True
    )
    assert "Иркутские игры" in client.get("/").get_data(as_text=True)  # not yet
    removed = client.post(remove, data={"purge": "1", "confirm": "1"}, follow_redirects=True)
    assert "вместе с полученными записями" in flashed(removed)
    assert "Подписок пока нет" in removed.get_data(as_text=True)
    assert "Иркутские игры" not in client.get("/").get_data(as_text=True)


def upload_opml(admin: Admin, opml: bytes) -> TestResponse:
    """The admin page's OPML upload, the redirect followed."""
    return admin.client.post(
        "/admin/subscriptions/opml",
        data={"opml": (io.BytesIO(opml), "feeds.opml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_subscriptions_from_opml(manager: Admin) -> None:
    opml = (
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>x</title></head>'
        '<body><outline type="rss" text="Томск" xmlUrl="https://tomsk.example/feeds/all.atom"/>'
        "</body></opml>"
    ).encode()
    posted = upload_opml(manager, opml)
    assert "Из OPML добавлено подписок: 1" in flashed(posted)
    assert "https://tomsk.example/feeds/all.atom" in posted.get_data(as_text=True)
    broken = manager.client.post(
        "/admin/subscriptions/opml",
        data={"opml": (io.BytesIO(b"<not opml"), "feeds.opml")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422 and "Файл OPML не прочитан" in broken.get_data(as_text=True)
    assert manager.client.post("/admin/subscriptions/opml", data={}).status_code == 422
    assert manager.client.post("/admin/subscriptions/999/poll").status_code == 404
    assert manager.client.post("/admin/subscriptions/999/remove").status_code == 404
    assert (
        manager.client.post("/admin/subscriptions/999/remove", data={"purge": "1"}).status_code
        == 404
    )
