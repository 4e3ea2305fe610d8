"""What an instance does by itself for its security: its own secret key, security
headers, login rate limits (database and Redis storage), sessions that end,
cookie flags, the password rule, ``admin password``, the instance-admin role."""

from __future__ import annotations

import os
import socket
import stat
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service import create_app
from service.config import SECRET_KEY_FILE, secret_key
from service.store.models import db
from tests.conftest import Api, base_config
from tests.test_web_admin import PASSWORD, Admin, logged_in, make_admin

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def _config(tmp_path: Path, **over: Any) -> dict[str, Any]:
    config = base_config(f"sqlite:///{tmp_path / 'k.sqlite3'}", tmp_path)
    config.pop("SECRET_KEY")
    return config | over


def test_without_secret_key_the_instance_makes_one_and_keeps_it(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    os.environ.pop("SECRET_KEY", None)
    keys = [create_app(_config(tmp_path), instance_path=str(instance)).secret_key]

    def start() -> None:  # what each of several workers starting at once does
        keys.append(secret_key(instance))

    threads = [threading.Thread(target=start) for _ in range(8)]
    (instance / SECRET_KEY_FILE).unlink()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys.pop(0)
    path = instance / SECRET_KEY_FILE
    assert len(set(keys)) == 1 and keys[0] == path.read_text().strip()
    assert len(keys[0]) >= 64 and keys[0] != "dev"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = create_app(_config(tmp_path), instance_path=str(instance))
    assert again.secret_key == keys[0]  # a restart keeps the sessions valid
    assert again.config["SECRET_KEY"] == keys[0]
    other = create_app(_config(tmp_path), instance_path=str(tmp_path / "other"))
    assert other.secret_key != keys[0]  # every instance its own
    given = create_app(_config(tmp_path, SECRET_KEY="operator-set"), instance_path=str(instance))
    assert given.secret_key == "operator-set"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "path", ["/", "/admin/login", "/api/v1/cities", "/feeds/all.atom", "/nowhere", "/healthz"]
)
def test_security_headers_on_every_answer(client: Any, path: str) -> None:
    answer = client.get(path)
    for name in SECURITY_HEADERS:
        assert name in answer.headers, (path, name)
    policy = answer.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "frame-ancestors 'none'"):  # fmt: skip
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"


def _login(admin: Admin, password: str, address: str = "127.0.0.1") -> int:
    answer = admin.client.post(
        "/admin/login",
        data={"email": admin.email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    return answer.status_code


def test_login_is_throttled_per_account(app: Flask, api: Api, runner: Any) -> None:
    admin = Admin(app.test_client(), make_admin(api, runner, "omsk", "Омск"))
    assert _login(admin, PASSWORD) == 302  # successes do not count
    for n in range(10):  # the default: 10 failures per account, from many addresses
        assert _login(admin, "wrong password", f"10.0.0.{n}") == 401
    refused = admin.client.post(
        "/admin/login", data={"email": admin.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )  # fmt: skip
    assert refused.status_code == 429  # even the right password, until the window ends
    assert int(refused.headers["Retry-After"]) > 0
    assert "Слишком много неудачных попыток" in refused.get_data(as_text=True)
    other = Admin(app.test_client(), make_admin(api, runner, "tomsk", "Томск"))
    assert _login(other, PASSWORD, "10.0.1.1") == 302  # another account is not affected


def _redis_up() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.parametrize("storage", ["database", "redis"])
def test_login_is_throttled_per_address(
    database_url: str, tmp_path: Path, storage: str, runner: Any, api: Api
) -> None:
    """Many accounts from one address; counted in the database or in Redis, and shared
    by a second process of the same instance."""
    config = base_config(database_url, tmp_path) | {"LOGIN_LIMIT_ADDRESS": "6 per hour"}
    if storage == "redis":
        if not _redis_up():
            pytest.skip("Redis is not running on 127.0.0.1:6379")
        config |= {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
                   "RATELIMIT_KEY_PREFIX": f"asdg-test-{uuid.uuid4().hex}"}  # fmt: skip
    first, second = create_app(config), create_app(config)  # two gunicorn workers
    for n in range(3):
        for app in (first, second):
            answer = app.test_client().post(
                "/admin/login", data={"email": f"guess{n}@omsk.example", "password": "x" * 12},
                environ_base={"REMOTE_ADDR": "192.0.2.7"},
            )  # fmt: skip
            assert answer.status_code == 401
    email = make_admin(api, runner, "omsk", "Омск")
    for app in (first, second):
        answer = app.test_client().post(
            "/admin/login", data={"email": email, "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        )  # fmt: skip
        assert answer.status_code == 429
    elsewhere = first.test_client().post(
        "/admin/login", data={"email": email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.8"},
    )  # fmt: skip
    assert elsewhere.status_code == 302
    for app in (first, second):
        _close(app)


def _close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_logout_ends_the_session_and_its_copies(app: Flask, api: Api, runner: Any) -> None:
    omsk = logged_in(app, api, runner, "omsk", "Омск")
    stolen = app.test_client()
    cookie = omsk.client.get_cookie("session")
    assert cookie is not None
    stolen.set_cookie("session", cookie.value)
    assert stolen.get("/admin/").status_code == 200
    omsk.logout()
    assert stolen.get("/admin/").status_code == 302  # the copied cookie no longer works
    assert omsk.client.get("/admin/").status_code == 302
    assert omsk.login().status_code == 302  # a new login works


def test_session_cookie_flags(app: Flask, api: Api, runner: Any) -> None:
    omsk = Admin(app.test_client(), make_admin(api, runner, "omsk", "Омск"))
    answer = omsk.login()
    header = answer.headers["Set-Cookie"]
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Expires=" in header
    assert "Secure" not in header  # BASE_URL is http here
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 12 * 3600


def test_secure_cookie_under_https(database_url: str, tmp_path: Path) -> None:
    app = create_app(base_config(database_url, tmp_path) | {"BASE_URL": "https://omsk.example"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    _close(app)


def test_login_next_with_cr_lf_is_ignored(app: Flask, api: Api, runner: Any) -> None:
    email = make_admin(api, runner, "omsk", "Омск")
    for target in ("/admin/%0d%0aSet-Cookie:%20x=1", "/admin/%0AX:%20y", "//evil.example/"):
        answer = app.test_client().post(
            f"/admin/login?next={target}", data={"email": email, "password": PASSWORD}
        )
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/admin/", target


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("          ", "из одних пробелов"),
        ("short1", "не короче 10"),
        ("1234567890", "распространён"),
        ("Qwertyuiop", "распространён"),
    ],
)
def test_password_rule(runner: Any, api: Api, password: str, message: str) -> None:
    api.city("omsk", "Омск")
    result = runner.invoke(
        args=["admin", "create", "a@omsk.example", "--city", "omsk", "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code == 1 and "[password]" in result.output
    assert message in result.output


def test_admin_password_changes_it_and_ends_sessions(app: Flask, api: Api, runner: Any) -> None:
    omsk = logged_in(app, api, runner, "omsk", "Омск")
    new = "другой пароль 2026"
    weak = runner.invoke(args=["admin", "password", omsk.email, "--password-stdin"], input="x\n")
    assert weak.exit_code == 1 and "[password]" in weak.output
    result = runner.invoke(
        args=["admin", "password", omsk.email, "--password-stdin"], input=new + "\n"
    )
    assert result.exit_code == 0, result.output
    assert omsk.client.get("/admin/").status_code == 302  # the session ended
    assert omsk.login().status_code == 401  # the old password is gone
    assert omsk.login(new).status_code == 302
    unknown = runner.invoke(
        args=["admin", "password", "nobody@x.example", "--password-stdin"], input=new + "\n"
    )
    assert unknown.exit_code == 1 and "[email]" in unknown.output


def test_instance_wide_settings_need_the_role_in_the_api(api: Api, omsk: str) -> None:
    """The same rule as on the web: a city's token may not manage subscriptions."""
    body = {"url": "https://tomsk.example/feeds/all.atom"}
    for method, path in (("GET", ""), ("POST", ""), ("DELETE", "/1"), ("POST", "/1/poll")):
        answer = api.client.open(
            f"/api/v1/subscriptions{path}", method=method, json=body, headers=api.headers(omsk)
        )
        assert answer.status_code == 403, (method, path)
        assert "администратора сервера" in answer.json["message"]
    assert api.get("/api/v1/subscriptions", api.token(None)).status_code == 200
