"""The admin pages under /admin/: login, the city's entries, API tokens, subscriptions,
the city's settings (its time zone).

An admin belongs to one city and acts as that city (a :class:`Principal`
with its city id): the service functions that the API uses decide what it may
see and change, so another city's drafts stay invisible here as they are in
the API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from werkzeug.wrappers import Response

from service import accounts as auth
from service.cities import set_time_zone
from service.entries import service as entries
from service.entries.access import Principal, check_instance_admin
from service.entries.filters import EntryFilter
from service.entries.rendering import entry_html
from service.errors import AuthError, ConflictError, PreconditionFailedError, ValidationError
from service.fields import labels
from service.http.errors import wants_json
from service.http.web import forms, queries
from service.http.web.helpers import PER_PAGE, FilterSchema, entry_path, load_args
from service.mirror import subscriptions
from service.mirror.results import poll_requested_message
from service.push import status as push_status
from service.store.models import AdminUser, Entry, db
from service.timezones import ZONE_CHOICES
from service.vocab import Kind, PushState, Status, SubscriptionState

bp = Blueprint("admin", __name__, url_prefix="/admin")

F = TypeVar("F", bound=Callable[..., Any])
#: URL part of each kind.
KINDS = {"practices": Kind.PRACTICE, "events": Kind.EVENT}
SESSION_KEY = "admin_id"
#: The admin's session version when the session was signed (see service.accounts).
VERSION_KEY = "admin_version"


# -- who is logged in ---------------------------------------------------------


@bp.before_app_request
def load_admin() -> None:
    """The logged-in admin (or None) as ``g.admin`` on every page.

    API and feed requests never read the session: their answers must not
    vary by cookie (shared caches keep one copy of a feed for everybody).
    """
    if wants_json():
        g.admin = None
        return
    g.admin = auth.session_admin(session.get(SESSION_KEY), session.get(VERSION_KEY))
    if g.admin is None and SESSION_KEY in session:
        session.clear()  # ended by logout or a password change


def current_principal() -> Principal | None:
    """The logged-in admin acting as its city, or None for a reader."""
    admin: AdminUser | None = g.get("admin")
    if admin is None:
        return None
    return auth.admin_principal(admin)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("admin") is None:
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def instance_admin_required(view: F) -> F:
    """Instance-wide settings: the one rule of service.entries.access (403 otherwise)."""

    @login_required
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        check_instance_admin(current_principal())
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _principal() -> Principal:
    principal = current_principal()
    assert principal is not None
    return principal


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else goes to the admin start page."""
    if target and target.isprintable() and target.isascii():  # no CR/LF, no control characters
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            admin = auth.authenticate_admin(email, request.form.get("password", ""))
        except AuthError as e:
            error = e.message
        else:
            session.clear()
            session.permanent = True  # PERMANENT_SESSION_LIFETIME
            session[SESSION_KEY] = admin.id
            session[VERSION_KEY] = admin.session_version
            return redirect(_safe_next(request.args.get("next")))
    html = render_template("admin/login.html", email=email, error=error)
    return html, 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session: this cookie, and every other session of the admin, stop working."""
    if g.get("admin") is not None:
        auth.end_sessions(g.admin)
    session.clear()
    flash("Вы вышли.")
    return redirect(url_for("reading.index"))


# -- the city's entries -------------------------------------------------------


@bp.route("/")
@login_required
def dashboard() -> str:
    """The admin's city's notes and events, drafts included."""
    args = load_args(FilterSchema(only=("kind", "page")), request.args)
    admin: AdminUser = g.admin
    found = entries.list_entries(
        EntryFilter(city=admin.city.slug, kind=args.get("kind")),
        page=args["page"],
        per_page=PER_PAGE,
        viewer=_principal(),
    )
    return render_template("admin/dashboard.html", entries=found, args=args)


def _kind(plural: str) -> str:
    if plural not in KINDS:
        abort(404)
    return KINDS[plural]


def own_entry(
    kind: str, entry_id: int, *, if_match: str | None = None, lock: bool | None = None
) -> Entry:
    """An entry the admin may change: another city's drafts are not found at all,
    its published entries and mirrored entries are refused. A write (POST) locks it,
    as the API does."""
    principal = _principal()
    entry = entries.get_entry(kind, str(entry_id), viewer=principal)
    lock = request.method == "POST" if lock is None else lock
    return entries.get_entry_for_write(kind, str(entry.id), principal, if_match=if_match, lock=lock)


def _changed_meanwhile(kind: str, entry_id: int) -> tuple[str, int]:
    """The form again with what the admin typed, after another save of the same entry."""
    entry = own_entry(kind, entry_id, lock=False)
    message = (
        "Пока вы правили запись, её сохранил кто-то ещё. Ваш текст ниже не сохранён: "
        "откройте запись заново, чтобы увидеть изменения, или сохраните ещё раз, "
        "чтобы записать свой вариант поверх них."
    )
    values = forms.typed_form(request.form)
    errors = {"form": [message]}
    return _form_page(kind, entry, values, errors, version=entries.etag(entry), status=412)


def _choices(kind: str) -> dict[str, Any]:
    """What the form's lists offer: topics, and for an event the city's notes."""
    choices: dict[str, Any] = {"topics": queries.all_topics()}
    if kind == Kind.EVENT:
        admin: AdminUser = g.admin
        notes = entries.list_entries(
            EntryFilter(city=admin.city.slug, kind=Kind.PRACTICE),
            per_page=100,
            viewer=_principal(),
        )
        choices["practices"] = notes.items
    return choices


def _form_page(
    kind: str,
    entry: Entry | None,
    values: dict[str, Any],
    errors: forms.FormErrors | None = None,
    preview: Markup | None = None,
    *,
    version: str | None = None,
    status: int | None = None,
) -> tuple[str, int]:
    """The form; an edit carries the version it started from (the entry's ETag), so a
    save over someone else's newer changes is caught (412) instead of undoing them."""
    if entry is not None and version is None:
        version = request.form.get("version") or entries.etag(entry)
    html = render_template(
        f"admin/{kind}_form.html",
        kind=kind,
        entry=entry,
        values=values,
        errors=errors or {},
        labels=labels(kind),
        preview=preview,
        version=version,
        **_choices(kind),
    )
    return html, status or (422 if errors else 200)


def _preview(kind: str, entry: Entry | None) -> tuple[str, int]:
    """The form again with the entry as its page would show it; nothing is saved."""
    try:
        data = forms.validate(kind, request.form)
    except forms.FormInvalid as invalid:
        return _form_page(kind, entry, forms.typed_form(request.form), invalid.errors)
    shown = Markup(entry_html({**data, "kind": kind}))
    return _form_page(kind, entry, forms.typed_form(request.form), preview=shown)


def _save(kind: str, entry: Entry | None) -> Entry:
    """Validate the posted form and create or update; :class:`forms.FormInvalid` if bad."""
    data = forms.validate(kind, request.form)
    try:
        if entry is None:
            admin: AdminUser = g.admin
            return entries.create_entry(kind, data, city=admin.city)
        return entries.update_entry(entry, data)
    except ValidationError as error:
        db.session.rollback()
        raise forms.service_error(error) from error


def _saved_message(entry: Entry) -> Markup:
    """The message after saving, with a link to the entry's page (drafts too)."""
    published = entry.status == Status.PUBLISHED
    state = "сохранено и опубликовано" if published else "сохранено как черновик"
    link = Markup('<a href="{}">Открыть запись</a>').format(entry_path(entry))
    return Markup("«{}» {}. ").format(entry.title, state) + link


@bp.route("/<plural>/new", methods=["GET", "POST"])
@login_required
def create(plural: str) -> Any:
    kind = _kind(plural)
    if request.method == "GET":
        return _form_page(kind, None, {"status": Status.DRAFT.value})
    if request.form.get("action") == "preview":
        return _preview(kind, None)
    try:
        entry = _save(kind, None)
    except forms.FormInvalid as invalid:
        return _form_page(kind, None, forms.typed_form(request.form), invalid.errors)
    flash(_saved_message(entry))
    return redirect(url_for("admin.dashboard"))


@bp.route("/<plural>/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit(plural: str, entry_id: int) -> Any:
    kind = _kind(plural)
    if request.method == "POST" and request.form.get("action") != "preview":
        try:
            entry = own_entry(kind, entry_id, if_match=request.form.get("version") or None)
        except PreconditionFailedError:
            db.session.rollback()
            return _changed_meanwhile(kind, entry_id)
    else:
        entry = own_entry(kind, entry_id, lock=False)
    if request.method == "GET":
        return _form_page(kind, entry, forms.entry_form(entry))
    if request.form.get("action") == "preview":
        return _preview(kind, entry)
    try:
        _save(kind, entry)
    except forms.FormInvalid as invalid:
        return _form_page(kind, entry, forms.typed_form(request.form), invalid.errors)
    flash(_saved_message(entry))
    return redirect(url_for("admin.dashboard"))


@bp.route("/<plural>/<int:entry_id>/publish", methods=["POST"])
@login_required
def publish(plural: str, entry_id: int) -> Response:
    entry = own_entry(_kind(plural), entry_id)
    if entry.status != Status.PUBLISHED:
        entries.update_entry(entry, {"status": Status.PUBLISHED.value})
    flash(
        Markup('«{}» опубликовано. <a href="{}">Открыть запись</a>').format(
            entry.title, entry_path(entry)
        )
    )
    if request.form.get("next") == "entry":
        return redirect(entry_path(entry))
    return redirect(url_for("admin.dashboard"))


@bp.route("/<plural>/<int:entry_id>/delete", methods=["GET", "POST"])
@login_required
def delete(plural: str, entry_id: int) -> Any:
    entry = own_entry(_kind(plural), entry_id)
    if request.method == "GET":
        return render_template("admin/delete.html", entry=entry)
    title = entry.title
    entries.delete_entry(entry)
    flash(f"«{title}» удалено.")
    return redirect(url_for("admin.dashboard"))


# -- API tokens ---------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Any:
    """The city's API tokens; a new one is shown once, right after it is made."""
    admin: AdminUser = g.admin
    plain = None
    label = request.form.get("label", "").strip()
    error = None
    if request.method == "POST":
        if len(label) > 200:
            error = "Описание ключа: не больше 200 символов."
        else:
            _, plain = auth.create_token(admin.city, label)
    html = render_template(
        "admin/tokens.html",
        tokens=auth.list_tokens(admin.city_id),
        plain=plain,
        label="" if plain else label,
        error=error,
    )
    return html, 422 if error else 200


# -- the city's settings ---------------------------------------------------------


@bp.route("/city", methods=["GET", "POST"])
@login_required
def city_settings() -> Any:
    """The city's time zone: admin pages show times in it."""
    admin: AdminUser = g.admin
    value = request.form.get("time_zone", admin.city.time_zone)
    error = None
    if request.method == "POST":
        try:
            set_time_zone(admin.city, value)
        except ValidationError as e:
            db.session.rollback()
            error = e.message
        else:
            flash(f"Часовой пояс сохранён: {value}.")
            return redirect(url_for("admin.city_settings"))
    html = render_template("admin/city.html", value=value, error=error, zones=ZONE_CHOICES)
    return html, 422 if error else 200


def _confirm(heading: str, question: str, consequence: str, button: str, back: str,
             **hidden: str) -> str:  # fmt: skip
    """A page asking to confirm what the form posted (it posts again with confirm=1)."""
    return render_template(
        "admin/confirm.html",
        heading=heading,
        question=question,
        consequence=consequence,
        button=button,
        back=back,
        action=request.path,
        hidden=hidden,
    )


def _confirmed() -> bool:
    return request.form.get("confirm") == "1"


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Any:
    if not _confirmed():
        token = next((t for t in auth.list_tokens(g.admin.city_id) if t.id == token_id), None)
        if token is None:
            abort(404)
        return _confirm(
            "Отозвать ключ API",
            f"Отозвать ключ «{token.label or 'без описания'}»?",
            "Программы, которые пишут с этим ключом, перестанут работать. Отменить это нельзя: "
            "понадобится новый ключ.",
            "Да, отозвать ключ",
            url_for("admin.tokens"),
        )
    auth.revoke_token(token_id, _principal())
    flash("Ключ отозван: с ним больше нельзя писать через API.")
    return redirect(url_for("admin.tokens"))


# -- subscriptions --------------------------------------------------------------


def _subscriptions_page(url: str = "", error: str | None = None, status: int = 200) -> Any:
    html = render_template(
        "admin/subscriptions.html",
        subscriptions=subscriptions.list_subscriptions(),
        states=SubscriptionState,
        push_states=PushState,
        push_working=push_status.working,
        url=url,
        error=error,
    )
    return html, status


@bp.route("/subscriptions", methods=["GET", "POST"])
@instance_admin_required
def subscriptions_page() -> Any:
    """The feeds this instance mirrors: add by URL, poll now, remove; state and errors."""
    if request.method == "GET":
        return _subscriptions_page()
    url = request.form.get("url", "")
    try:
        sub = subscriptions.add_subscription(url)
    except (ValidationError, ConflictError) as error:
        db.session.rollback()
        return _subscriptions_page(url, error.message, error.status_code)
    flash(f"Подписка добавлена: {sub.title or sub.url}. Записи придут при опросе.")
    return redirect(url_for("admin.subscriptions_page"))


@bp.route("/subscriptions/opml", methods=["POST"])
@instance_admin_required
def import_opml() -> Any:
    upload = request.files.get("opml")
    if upload is None or not upload.filename:
        return _subscriptions_page(error="Выберите файл OPML.", status=422)
    try:
        created = subscriptions.import_opml(upload.read())
    except ValidationError as error:
        db.session.rollback()
        return _subscriptions_page(error=f"Файл OPML не прочитан: {error.message}", status=422)
    dropped = sum(sub.links_dropped for sub in created)
    tail = f" Отброшено ссылок (не http:// и не https://): {dropped}." if dropped else ""
    flash(f"Из OPML добавлено подписок: {len(created)}.{tail}")
    return redirect(url_for("admin.subscriptions_page"))


@bp.route("/subscriptions/<int:sub_id>/poll", methods=["POST"])
@instance_admin_required
def poll_subscription(sub_id: int) -> Response:
    sub = subscriptions.request_poll(sub_id)
    flash(poll_requested_message(sub.title or sub.url))
    return redirect(url_for("admin.subscriptions_page"))


@bp.route("/subscriptions/<int:sub_id>/remove", methods=["POST"])
@instance_admin_required
def remove_subscription(sub_id: int) -> Any:
    purge = request.form.get("purge") == "1"
    if purge and not _confirmed():
        sub = next((s for s in subscriptions.list_subscriptions() if s.id == sub_id), None)
        if sub is None:
            abort(404)
        return _confirm(
            "Отписаться и удалить записи",
            f"Отписаться от «{sub.title or sub.url}» и удалить все полученные из неё записи?",
            "Записи этой ленты исчезнут с сайта, из поиска и из ленты сети. "
            "Вернуть их можно только новой подпиской.",
            "Да, отписаться и удалить",
            url_for("admin.subscriptions_page"),
            purge="1",
        )
    subscriptions.remove_subscription(sub_id, purge=purge)
    if purge:
        flash("Подписка удалена вместе с полученными записями.")
    else:
        flash("Подписка удалена; полученные записи остались на сайте.")
    return redirect(url_for("admin.subscriptions_page"))
